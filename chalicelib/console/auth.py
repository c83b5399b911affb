"""Who is signed in to the console: users (email + scrypt password, a tenant and a role), sessions
behind an HttpOnly SameSite=Strict cookie (Secure in prod), a CSRF token per session, and the
same login throttle as 1C's checkauth (per source and email, and per email).

Roles: `owner` (a tenant's; may add, remove and re-role its users and reset their passwords),
`user` (a tenant's), `operator` (every tenant). A session is checked against its user on every
request: a removed user is signed out at once, a changed role holds from the next page, and a
reset password ends the user's sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.tenants import hash_password, verify_password

COOKIE = "cmlbridge_console"
SESSION_SECONDS = 8 * 3600
MAX_PER_SOURCE, MAX_PER_EMAIL, THROTTLE_SECONDS = 5, 20, 900
MIN_PASSWORD = 10
ROLES = ("owner", "user", "operator")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,63}$")


class ConsoleStore(Protocol):
    def put_user(self, user: dict[str, Any]) -> None: ...
    def user(self, email: str) -> dict[str, Any] | None: ...
    def delete_user(self, email: str) -> None: ...
    def users(self, tenant: str | None) -> list[dict[str, Any]]: ...
    def put_session(self, key: str, item: dict[str, Any]) -> None: ...
    def session(self, key: str) -> dict[str, Any] | None: ...
    def delete_session(self, key: str) -> None: ...
    def record(self, tenant: str, entry: dict[str, Any]) -> None: ...
    def actions(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]: ...


class Throttle(Protocol):
    def take_attempt(self, key: str, limit: int, window_seconds: int) -> int: ...
    def clear_attempts(self, key: str) -> None: ...


class ConsoleError(Exception):
    """A refusal a person can act on (shown on the page)."""


@dataclass(frozen=True)
class SignedIn:
    email: str
    role: str
    home: str | None  # the user's tenant (None for an operator)
    tenant: str | None  # the tenant the pages show (an operator picks one)
    csrf: str
    key: str

    @property
    def operator(self) -> bool:
        return self.role == "operator"

    @property
    def owns(self) -> bool:
        """May change what the shop's owner owns: webhooks and their secret, settings, users."""
        return self.role in ("owner", "operator")


def _key(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def cookie_value(header: str | None) -> str | None:
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


class ConsoleAuth:
    def __init__(self, store: ConsoleStore, throttle: Throttle, secure: bool) -> None:
        self.store, self.throttle, self.secure = store, throttle, secure

    def add_user(self, email: str, password: str, tenant: str | None, role: str, by: str) -> dict[str, Any]:
        email = email.strip().lower()
        if not _EMAIL.match(email):
            raise ConsoleError("укажите e-mail пользователя")
        if role not in ROLES or (role == "operator") != (tenant is None):
            raise ConsoleError("роль: owner или user — для магазина, operator — без магазина")
        if len(password) < MIN_PASSWORD:
            raise ConsoleError(f"пароль не короче {MIN_PASSWORD} символов")
        if self.store.user(email):  # one answer wherever the address is used: no shop's users leak
            raise ConsoleError(f"адрес {email} нельзя добавить: укажите другой e-mail")
        user = {"email": email, "tenant": tenant, "role": role, "password_hash": hash_password(password)}
        self.store.put_user({**user, "created_by": by, "created_at": int(time.time())})
        return {k: v for k, v in user.items() if k != "password_hash"}

    def login(self, email: str, password: str, source: str) -> tuple[str, SignedIn]:
        email = email.strip().lower()[:320]
        for counter, limit in (
            (f"console|{source}|{email}", MAX_PER_SOURCE),
            (f"console|{email}", MAX_PER_EMAIL),
        ):
            wait = self.throttle.take_attempt(counter, limit, THROTTLE_SECONDS)
            if wait:
                raise ConsoleError(
                    f"слишком много неудачных попыток входа; повторите через {max(1, wait // 60)} мин."
                )
        user = self.store.user(email)
        if not verify_password(password, (user or {}).get("password_hash")) or user is None:
            raise ConsoleError("неверный e-mail или пароль")
        self.throttle.clear_attempts(f"console|{source}|{email}")
        self.throttle.clear_attempts(f"console|{email}")
        value = secrets.token_urlsafe(32)
        item = {
            "email": email,
            "issued_at": int(time.time() * 1000),
            "role": user["role"],
            "home": user.get("tenant"),
            "tenant": user.get("tenant"),
            "csrf": secrets.token_urlsafe(24),
            "expires_at": int(time.time()) + SESSION_SECONDS,
        }
        self.store.put_session(_key(value), item)
        return value, self._signed_in(_key(value), item)

    def signed_in(self, cookie_header: str | None) -> SignedIn | None:
        value = cookie_value(cookie_header)
        if not value:
            return None
        item = self.store.session(_key(value))
        user = self.store.user(item["email"]) if item else None
        if item is None or user is None or int(item.get("issued_at", 0)) < int(user.get("valid_after", 0)):
            return None
        return self._signed_in(_key(value), {**item, "role": user["role"]})

    @staticmethod
    def _signed_in(key: str, item: dict[str, Any]) -> SignedIn:
        return SignedIn(item["email"], item["role"], item.get("home"), item.get("tenant"), item["csrf"], key)

    # -- a shop's users, managed by its owner (or an operator) ---------------------------------
    def _member(self, by: SignedIn, email: str) -> dict[str, Any]:
        """A user of the shop `by` is looking at, whom `by` may manage."""
        if not by.owns:
            raise ConsoleError("пользователями магазина управляет его владелец")
        user = self.store.user(email.strip().lower())
        if user is None or user.get("tenant") != by.tenant or user.get("tenant") is None:
            raise ConsoleError("нет такого пользователя в этом магазине")
        if user["email"] == by.email:
            raise ConsoleError("свою учётную запись так не меняют: попросите другого владельца")
        return user

    def _last_owner(self, user: dict[str, Any]) -> bool:
        owners = [u for u in self.store.users(user["tenant"]) if u["role"] == "owner"]
        return owners == [u for u in owners if u["email"] == user["email"]]

    def remove_user(self, by: SignedIn, email: str) -> str:
        user = self._member(by, email)
        if user["role"] == "owner" and self._last_owner(user):
            raise ConsoleError("это последний владелец магазина: сначала назначьте другого")
        self.store.delete_user(user["email"])
        return str(user["email"])

    def set_role(self, by: SignedIn, email: str, role: str) -> str:
        user = self._member(by, email)
        if role not in ("owner", "user"):
            raise ConsoleError("роль: владелец или пользователь")
        if user["role"] == "owner" and role != "owner" and self._last_owner(user):
            raise ConsoleError("это последний владелец магазина: сначала назначьте другого")
        self.store.put_user({**user, "role": role})
        return str(user["email"])

    def reset_password(self, by: SignedIn, email: str) -> tuple[str, str]:
        """A new password (shown once to the owner); the user's open sessions end."""
        user = self._member(by, email)
        password = secrets.token_urlsafe(12)
        self.store.put_user(
            {**user, "password_hash": hash_password(password), "valid_after": int(time.time() * 1000)}
        )
        return str(user["email"]), password

    def switch_tenant(self, signed: SignedIn, tenant: str) -> None:
        if not signed.operator:
            raise ConsoleError("только оператор выбирает магазин")
        item = self.store.session(signed.key)
        if item:
            self.store.put_session(signed.key, {**item, "tenant": tenant})

    def logout(self, signed: SignedIn) -> None:
        self.store.delete_session(signed.key)

    @staticmethod
    def csrf_ok(signed: SignedIn, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(signed.csrf, token or "")

    def cookie(self, value: str = "", clear: bool = False, base: str = "") -> str:
        attributes = [f"Path={base}/console", "HttpOnly", "SameSite=Strict"]
        if self.secure:
            attributes.append("Secure")
        attributes.append("Max-Age=0" if clear else f"Max-Age={SESSION_SECONDS}")
        return f"{COOKIE}={'' if clear else value}; " + "; ".join(attributes)
