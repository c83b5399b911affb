"""Tenants: who a 1C login or a shop API key belongs to, and their settings. Pure code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from chalicelib.texts import text_problem

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")

# scrypt's cost: 2**14 (about 45 ms a check). The test suite lowers it with PASSWORD_HASH_COST (a
# hash records its own cost, so every hash verifies whatever the setting was when it was made).
_SCRYPT = {"n": 2 ** int(os.environ.get("PASSWORD_HASH_COST", "14")), "r": 8, "p": 1}
# A hash to compare against when the login is unknown, so timing does not reveal which logins exist.
_DUMMY_SALT = b"cmlbridge-dummy-salt"


class TenantError(ValueError):
    """A tenant operation that cannot be done, with a message for the operator."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; an absent hash still costs one scrypt run."""
    if not stored:
        hash_password(password, _DUMMY_SALT)
        return False
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt_b64), dklen=32, n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def hash_api_key(api_key: str) -> str:
    """API keys are long random tokens, so an unsalted SHA-256 is a safe lookup key."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key(tenant_id: str) -> str:
    return f"cmlb_{tenant_id}_{secrets.token_urlsafe(24)}"


PUBLISHABLE_PREFIX = "cmlb_pub_"


def new_publishable_key(tenant_id: str) -> str:
    """A key a shopper's browser may hold: it reads the catalog, never orders."""
    return f"{PUBLISHABLE_PREFIX}{tenant_id}_{secrets.token_urlsafe(18)}"


def new_secret() -> str:
    """32 random bytes, hex."""
    return secrets.token_hex(32)


MIN_SECRET_CHARS = 64  # what new_secret() makes: 32 random bytes as hex
MAX_URL = 2048


def webhook_url_problem(url: str, https_only: bool) -> str | None:
    """Why a webhook URL cannot be used (its form only; addresses are checked when sending)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        return "a webhook URL is required (at most 2048 characters)"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return f"{url[:80]!r}: spaces and control characters are not allowed"
    parts = urlsplit(url)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme.lower() not in schemes:
        return f"{url[:80]!r}: the scheme must be {' or '.join(schemes)}"
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return f"{url[:80]!r}: the port is not a number from 1 to 65535"
    if not host:
        return f"{url[:80]!r}: no host name"
    if parts.username or parts.password:
        return f"{url[:80]!r}: credentials in the URL are not allowed; the signature authenticates us"
    if port == 0:
        return f"{url[:80]!r}: the port is not a number from 1 to 65535"
    return None


def image_base_problem(url: str) -> str | None:
    """Why an image CDN base cannot prefix the shop's picture URLs: only `https://host[/path]`
    (a storefront links these: `javascript:`, credentials, queries or odd characters never)."""
    if len(url) > 300 or any(c.isspace() or ord(c) < 32 or c in "\"'<>\\`{}|^" for c in url):
        return f"{url[:80]!r}: адрес картинок — https://хост[/путь], без пробелов и спецсимволов"
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.query
        or parts.fragment
        or url.endswith(("?", "#"))
        or port == -1
    ):
        return f"{url[:80]!r}: адрес картинок — только https://хост[/путь]"
    return None


_IN_RUSSIAN = {
    "contains control characters": "есть управляющие символы",
    "is not valid Unicode text": "есть недопустимые символы (не Юникод)",
}


def settings_text_problem(value: Any, where: str = "") -> str | None:
    """The first text in a setting (nested lists and maps too) that a 1C document or the console
    could not carry: control characters, lone surrogates, or over 1,000 characters."""
    if isinstance(value, str):
        problem = "длиннее 1000 символов" if len(value) > 1000 else _IN_RUSSIAN.get(text_problem(value) or "")
        return (
            f"настройка {where or ''}: {problem} — такой текст не пройдёт в документы для 1С"
            if problem
            else None
        )
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list | tuple)
        else ()
    )
    for key, item in items:
        problem = settings_text_problem(key, where) or settings_text_problem(item, f"{where}.{key}")
        if problem:
            return problem
    return None


DEFAULT_STATUS_MAP: dict[str, str] = {
    # 1C status texts (УТ 11, УНФ, Bitrix add-on) -> normalised order status
    "новый": "new",
    "[n] принят": "accepted",
    "принят": "accepted",
    "согласован": "accepted",
    "к обеспечению": "accepted",
    "в работе": "accepted",
    "ожидается оплата": "accepted",
    "ожидается предоплата": "accepted",
    "к отгрузке": "paid",
    "оплачен": "paid",
    "[p] оплачен": "paid",
    "отгружен": "shipped",
    "отправлен": "shipped",
    "[s] отгружен": "shipped",
    "доставлен": "delivered",
    "[f] доставлен": "delivered",
    "выполнен": "delivered",
    "закрыт": "delivered",
    "отменен": "cancelled",
    "отменён": "cancelled",
}


STOCK_POLICIES = ("strict", "backorder")


@dataclass(frozen=True)
class TenantSettings:
    """Per-tenant behaviour; every field has a sensible default."""

    shop_price_type: str | None = None  # price type id or name; None = the first by id
    # None: follow the session's flow (UTF-8 when 1C's init carried `version`, windows-1251
    # otherwise, as the 1C-Bitrix add-on expects); "utf-8" or "windows-1251" pins it.
    order_encoding: str | None = None
    order_schema_version: str = "2.08"
    order_currency: str = "RUB"  # what 1C reads without recalculating at an exchange rate
    organization: str | None = None  # 1C's Организация for orders, spelled as in 1C
    warehouse: str | None = None  # 1C's Склад for orders, spelled as in 1C
    payment_systems: tuple[dict[str, Any], ...] = ()  # [{"id", "name", "type"}] for mode=info
    delivery_services: tuple[dict[str, Any], ...] = ()  # [{"id", "name"}] for mode=info
    status_map: dict[str, str] = field(default_factory=dict)  # overrides DEFAULT_STATUS_MAP
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = None
    # A rotated-out secret still signs (a second signature) until this moment (epoch s), so the
    # receivers can change theirs in their own time (SECRET_OVERLAP_SECONDS).
    webhook_secret_previous: str | None = None
    webhook_secret_previous_until: int = 0
    # Where the owner hears of a failing or silent exchange by e-mail (`exchange.failed`,
    # `exchange.overdue`), when the deployment sends e-mail (MAIL_FROM); None: webhooks only.
    notify_email: str | None = None
    managers: tuple[str, ...] = ()
    manager_rules: tuple[dict[str, Any], ...] = ()
    image_base_url: str | None = None  # CDN in front of the bucket; None = presigned S3 URLs
    api_rate_per_minute: int = 1200  # shop API requests per minute for this tenant's key
    # "strict": an order takes only what is in stock; "backorder": lines beyond the stock are
    # taken too, marked `backorder` (1C gets them as usual). Services are never stock-checked.
    stock_policy: str = "strict"
    # Orders keyed in 1C (phone orders): "report" (the default: listed after 1C's `success` as
    # unknown, the site stays the shop's own) or "import" (they become site orders, marked as from
    # 1C, so the customer's account and the shop see them).
    orders_from_1c: str = "report"
    # The catalog schema `init` offers a client that asks (`version=` in init): "2" (the default:
    # 2.x files, which every 1C exchange sends) or "3.1" (the 1C-Bitrix add-on's file set).
    catalog_schema: str = "2"
    # Where the shop is: the console shows every time in this zone (IANA name).
    time_zone: str = "Europe/Moscow"
    # Tell the owner (webhook `exchange.overdue`, the console's banner) when 1C has sent no catalog
    # for this many hours; 0: never. A day: shops exchange every few minutes to hourly.
    overdue_hours: int = 24
    # SHA-256 fingerprints of the client certificates this shop's calls must present (none: no
    # certificate is asked for), and which calls: "exchange" (1C), "shop" (the shop API) or "both".
    client_certificates: tuple[str, ...] = ()
    certificates_guard: str = "both"
    # How long a shop's cache, a browser or a CDN may reuse a catalog answer (`Cache-Control:
    # max-age`); answers carry ETags, so a reuse past it costs a 304. 0: ask every time.
    cache_seconds: int = 30
    # The catalog-only key for browsers (public by design: shown in the console); None: none issued.
    publishable_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "shop_price_type": self.shop_price_type,
            "order_encoding": self.order_encoding,
            "order_schema_version": self.order_schema_version,
            "order_currency": self.order_currency,
            "organization": self.organization,
            "warehouse": self.warehouse,
            "payment_systems": [dict(p) for p in self.payment_systems],
            "delivery_services": [dict(d) for d in self.delivery_services],
            "status_map": dict(self.status_map),
            "webhook_urls": list(self.webhook_urls),
            "webhook_secret": self.webhook_secret,
            "webhook_secret_previous": self.webhook_secret_previous,
            "webhook_secret_previous_until": self.webhook_secret_previous_until,
            "notify_email": self.notify_email,
            "managers": list(self.managers),
            "manager_rules": [dict(r) for r in self.manager_rules],
            "image_base_url": self.image_base_url,
            "api_rate_per_minute": self.api_rate_per_minute,
            "stock_policy": self.stock_policy,
            "orders_from_1c": self.orders_from_1c,
            "catalog_schema": self.catalog_schema,
            "time_zone": self.time_zone,
            "overdue_hours": self.overdue_hours,
            "client_certificates": list(self.client_certificates),
            "certificates_guard": self.certificates_guard,
            "cache_seconds": self.cache_seconds,
            "publishable_key": self.publishable_key,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TenantSettings:
        data = data or {}
        known = cls.__dataclass_fields__
        clean = {k: v for k, v in data.items() if k in known and v is not None}
        for key in ("webhook_urls", "managers", "client_certificates"):
            if key in clean:
                clean[key] = tuple(clean[key])
        for key in ("manager_rules", "payment_systems", "delivery_services"):
            if key in clean:
                clean[key] = tuple(dict(r) for r in clean[key])
        return cls(**clean)

    def webhook_secrets(self, now: float) -> list[str]:
        """What signs a delivery now: the secret, and the rotated-out one while it overlaps."""
        previous = self.webhook_secret_previous
        overlapping = previous and now < self.webhook_secret_previous_until
        return [s for s in (self.webhook_secret, previous if overlapping else None) if s]

    def price_type_from(self, price_types: list[dict[str, Any]]) -> str | None:
        """The shop's price type among the catalog's (by id or name), else the first by id."""
        wanted = self.shop_price_type
        for d in price_types:
            if wanted and wanted in (d["id"], d.get("name", "").strip()):
                return str(d["id"])
        return None if wanted or not price_types else str(price_types[0]["id"])

    def encoding_for(self, flow_has_version: bool) -> str:
        if self.order_encoding:
            return self.order_encoding
        return "utf-8" if flow_has_version else "windows-1251"

    def status_for(self, text_1c: str) -> str | None:
        key = " ".join(text_1c.lower().split())
        return self.status_map.get(key) or DEFAULT_STATUS_MAP.get(key)


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    login: str | None = None
    password_hash: str | None = None
    api_key_hash: str | None = None
    settings: TenantSettings = field(default_factory=TenantSettings)
    active: bool = True
    # When the catalog or the tenant last changed (epoch ms; 0: not since this was recorded): what
    # the shop API's answer cache is keyed by. The store sets it: `touch_catalog` (the import
    # worker, forward only) and every whole-tenant `put` (settings, keys).
    catalog_version: int = 0

    def __post_init__(self) -> None:
        if not TENANT_ID.match(self.id):
            raise TenantError(
                f"tenant id {self.id!r} must be 2-40 characters: lowercase letters, digits, '-'"
            )

    def with_password(self, login: str, password: str) -> Tenant:
        if not login or not password:
            raise TenantError("both a 1C login and a password are required")
        return replace(self, login=login, password_hash=hash_password(password))

    def with_api_key(self, api_key: str) -> Tenant:
        return replace(self, api_key_hash=hash_api_key(api_key))

    def with_settings(self, **changes: Any) -> Tenant:
        return replace(self, settings=replace(self.settings, **changes))
