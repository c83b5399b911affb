"""Slugs for a storefront's URLs: the name transliterated (python-slugify; «Кресло «Прогулка»» →
`kreslo-progulka`), then `~` and the id, so a slug always leads back to its product or group
(no table of slugs to keep, and a renamed product's old links still resolve)."""

from __future__ import annotations

from functools import lru_cache

from slugify import slugify

SEPARATOR = "~"
MAX_WORDS = 60  # characters of the name's part


def slug(name: str | None, entity_id: str) -> str:
    words = _words(name or "")
    return f"{words}{SEPARATOR}{entity_id}" if words else entity_id


@lru_cache(maxsize=20_000)  # a container's popular names (~3 MB): a list page makes 50 slugs
def _words(name: str) -> str:
    # The transliteration named: `auto` tries to import `unidecode` (not installed) on every call —
    # a search of sys.path each time, 70 µs a slug, 3.5 ms of a list page's CPU; named, 11 µs.
    return slugify(name, max_length=MAX_WORDS, word_boundary=True, backend="text-unidecode")


def ids_of(raw: str) -> tuple[str, ...]:
    """What a path segment may name: the id itself, or a slug's id (after its last `~`)."""
    words, separator, entity_id = raw.rpartition(SEPARATOR)
    return (raw, entity_id) if separator and words and entity_id else (raw,)
