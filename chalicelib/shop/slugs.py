"""Slugs for a storefront's URLs: the name transliterated (python-slugify; «Кресло «Прогулка»» →
`kreslo-progulka`), then `~` and the id, so a slug always leads back to its product or group
(no table of slugs to keep, and a renamed product's old links still resolve)."""

from __future__ import annotations

from slugify import slugify

SEPARATOR = "~"
MAX_WORDS = 60  # characters of the name's part


def slug(name: str | None, entity_id: str) -> str:
    words = slugify(name or "", max_length=MAX_WORDS, word_boundary=True)
    return f"{words}{SEPARATOR}{entity_id}" if words else entity_id


def ids_of(raw: str) -> tuple[str, ...]:
    """What a path segment may name: the id itself, or a slug's id (after its last `~`)."""
    words, separator, entity_id = raw.rpartition(SEPARATOR)
    return (raw, entity_id) if separator and words and entity_id else (raw,)
