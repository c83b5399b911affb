"""Who is calling: 1C's login (every password check counted and throttled), sessions by cookie,
`sessid` or Basic auth, and the request shape the protocol works on."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib import certificates
from chalicelib.accounts import Accounts
from chalicelib.exchange import answers
from chalicelib.exchange.answers import Answer
from chalicelib.ids import SessionToken
from chalicelib.observability import logger
from chalicelib.ports import ExchangeStore
from chalicelib.settings import Settings
from chalicelib.tenants import Tenant

COOKIE = "CMLBRIDGE"
# Password checks allowed per window: per (source address, login), and per login from anywhere
# (1C:Fresh and offices share NAT addresses, so one tenant's typos never lock out another's).
MAX_CHECKS_PER_SOURCE = 5
MAX_CHECKS_PER_LOGIN = 20
THROTTLE_SECONDS = 900


@dataclass(frozen=True)
class ExchangeRequest:
    type: str
    mode: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    source: str = "unknown"
    certificate: str | None = None  # the client certificate (PEM) the TLS layer verified
    by_person: bool = False  # the console's exchange by hand: a signed-in person, not 1C

    def header(self, name: str) -> str:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return ""


@dataclass(frozen=True)
class Session:
    tenant: Tenant
    token: str
    item: dict[str, Any]

    @property
    def area(self) -> str | None:
        count = self.item.get("init_count")
        return str(SessionToken(self.token).area(int(count))) if count else None


class SessionError(Exception):
    """No session for this call: the reason goes to 1C as `failure`."""


def token_ref(token: str) -> str:
    """What logs show of a session token: a short hash, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def _login_key(login: str) -> str:
    return hashlib.sha256(login.encode()).hexdigest()[:32]


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    for encoding in ("utf-8", "cp1251"):  # 1C on Windows may send a cp1251 password
        try:
            login, sep, password = decoded.decode(encoding).partition(":")
            return (login, password) if sep else None
        except UnicodeDecodeError:
            continue
    return None


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


class Sessions:
    def __init__(self, accounts: Accounts, store: ExchangeStore, settings: Settings) -> None:
        self.accounts, self.store, self.settings = accounts, store, settings

    def login(self, source: str, login: str, password: str) -> Tenant:
        """Every password check goes through here: counted per (source, login) and per login
        before it runs; a success clears only that login's counters. Raises SessionError."""
        key = _login_key(login)
        for counter, limit in ((f"{source}|{key}", MAX_CHECKS_PER_SOURCE), (key, MAX_CHECKS_PER_LOGIN)):
            wait = self.store.take_attempt(counter, limit, THROTTLE_SECONDS)
            if wait:
                logger.warning("1C login throttled", extra={"login": login[:64], "source": source})
                raise SessionError(
                    f"слишком много неудачных попыток входа; повторите через {max(1, wait // 60)} мин."
                )
        tenant = self.accounts.authenticate_1c(login, password)
        if tenant is None:
            logger.warning("1C login refused", extra={"login": login[:64], "source": source})
            owner = self.accounts.store.by_login(login) if login else None
            if owner is not None:  # the shop whose login it is sees it on «Подключение 1С»
                self.store.note_refused_login(owner.id, {"source": source[:64], "reason": "неверный пароль"})
            raise SessionError("неверный логин или пароль для обмена с сайтом")
        self.store.clear_attempts(f"{source}|{key}")
        self.store.clear_attempts(key)
        return tenant

    def checkauth(self, request: ExchangeRequest) -> Answer:
        credentials = _basic_credentials(request.header("Authorization"))
        if credentials is None:
            return answers.failure(
                "не переданы логин и пароль (HTTP Basic): укажите их в настройках обмена 1С; "
                "если они указаны, прокси-сервер не передаёт заголовок Authorization"
            )
        tenant = self.login(request.source, *credentials)
        self._admit(tenant, request)
        now = int(time.time())
        token = self._open_session(tenant, request)
        value = f"{tenant.id}.{token}"
        logger.info("1C session opened", extra={"tenant": tenant.id, "exchange_session": token_ref(token)})
        return answers.checkauth(COOKIE, value, now)

    def session_for(self, tenant: Tenant, kind: str, source: str) -> str:
        """A session opened on behalf of a signed-in person (the console's "by hand" upload): the
        value 1C would get from checkauth, for the same calls 1C makes."""
        token = self._open_session(tenant, ExchangeRequest(type=kind, mode="checkauth", source=source))
        return f"{tenant.id}.{token}"

    def _open_session(self, tenant: Tenant, request: ExchangeRequest) -> str:
        now = int(time.time())
        token = str(SessionToken.new())
        self.store.create_session(
            tenant.id,
            token,
            {
                "type": request.type,
                "timestamp": now,
                "valid_until": now + self.settings.session_ttl_seconds,
                "source": request.source,
                "created_at": now,
            },
        )
        return token

    def resolve(self, request: ExchangeRequest) -> Session:
        """The session of a call (cookie, `sessid` or Basic auth). Raises SessionError."""
        value = _cookie(request.header("Cookie"), COOKIE) or _from_sessid(request.params.get("sessid"))
        if value and "." in value:
            tenant_id, _, token = value.partition(".")
            item = self.store.get_session(tenant_id, token)
            tenant = self.accounts.store.get(tenant_id) if item else None
            if item and tenant and tenant.active and int(item.get("valid_until", 0)) >= time.time():
                if item.get("completed_at") and request.mode != "complete":
                    raise SessionError("сеанс обмена уже завершён (mode=complete): начните новый с checkauth")
                self._admit(tenant, request)
                return Session(tenant, token, item)
        credentials = _basic_credentials(request.header("Authorization"))
        if credentials is None:
            raise SessionError("сессия обмена не найдена или истекла: начните обмен заново (mode=checkauth)")
        return self._basic_session(request, *credentials)

    def _admit(self, tenant: Tenant, request: ExchangeRequest) -> None:
        """A shop that registered client certificates for 1C's calls gets them only with one."""
        if request.by_person:
            return
        settings = tenant.settings
        guard = certificates.Surface(settings.certificates_guard)
        reason = certificates.refusal(
            settings.client_certificates, guard, certificates.Surface.EXCHANGE, request.certificate
        )
        if reason:
            logger.warning(
                "1C call refused: client certificate", extra={"tenant": tenant.id, "reason": reason}
            )
            self.store.note_refused_login(tenant.id, {"source": request.source[:64], "reason": reason.ru})
            raise SessionError(reason.ru)

    def _basic_session(self, request: ExchangeRequest, login: str, password: str) -> Session:
        """A client that sends Basic auth instead of the cookie gets a session of its own (one per
        source address and login), never one that another client opened."""
        tenant = self.login(request.source, login, password)
        self._admit(tenant, request)
        caller = hashlib.sha256(f"{request.source}|{login}".encode()).hexdigest()[:32]
        token = self.store.basic_session(tenant.id, caller)
        item = self.store.get_session(tenant.id, token) if token else None
        if token is None or item is None or item.get("completed_at"):
            token = self._open_session(tenant, request)  # a new one (none, or it completed)
            valid_until = int(time.time()) + self.settings.session_ttl_seconds
            self.store.set_basic_session(tenant.id, caller, token, valid_until)
            item = self.store.get_session(tenant.id, token) or {}
        return Session(tenant, token, item)


def _from_sessid(sessid: str | None) -> str | None:
    """The session value a `sessid` carries: hex (what checkauth answers now) or as is."""
    if sessid and len(sessid) <= 400 and "." not in sessid:
        try:
            return bytes.fromhex(sessid).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return None
    return sessid
