"""The console's HTTP plumbing: its blueprint, server-rendered pages (Jinja2, autoescaped), the
signed-in person, forms with their CSRF token, redirects, and headers that keep pages in their
own frame and scripts to our own files."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps
from pathlib import Path
from typing import Any, Concatenate, ParamSpec
from urllib.parse import parse_qs, quote, urlsplit

from chalice import Blueprint, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from chalicelib import wiring
from chalicelib.console.auth import SignedIn
from chalicelib.http import body_bytes
from chalicelib.http import header as request_header
from chalicelib.tenants import Tenant
from chalicelib.values import local_time

P = ParamSpec("P")

console = Blueprint(__name__)
HERE = Path(__file__).parent
FORM = ["application/x-www-form-urlencoded"]
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pictures come from S3 over https (presigned or the tenant's CDN); the local stack's moto
    # serves them over http on the loopback address.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: https: http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; form-action 'self'",
    "Cache-Control": "no-store",
}


class Redirect(Exception):
    def __init__(self, location: str, cookie: str | None = None) -> None:
        super().__init__(location)
        self.location, self.cookie = location, cookie


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


DEFAULT_ZONE = "Europe/Moscow"  # the tenants' default (tenants.TenantSettings.time_zone)

# The states the journal, jobs, orders and webhooks keep (English: classes, API, logs), as the
# console's people read them.
STATUS_WORDS = {
    "done": "успешно", "failed": "ошибка", "stalled": "остановлен", "running": "идёт", "queued": "в очереди",
    "skipped": "пропущен", "deferred": "отложен", "busy": "ждёт очереди", "pending": "ждёт конца обмена",
    "no import": "без загрузки", "new": "новый", "accepted": "принят", "paid": "оплачен", "shipped": "отгружен",
    "delivered": "доставлен", "cancelled": "отменён", "dead": "не доставлено", "retrying": "повтор",
    "no_receiver": "получатель не настроен",
}  # fmt: skip


def status_words(status: Any) -> str:
    """`done` → «успешно»; a list of states (`done, failed`) word by word; other text as it is."""
    return ", ".join(STATUS_WORDS.get(word, word) for word in str(status or "").split(", "))


@pass_context
def when(page: Any, stamp: Any) -> str:
    """A moment in the tenant's time zone (`zone` of the page; Moscow when there is no tenant)."""
    return local_time(stamp, page.get("zone") or DEFAULT_ZONE)


def size_ru(count: Any) -> str:
    """Bytes as a person reads them: `812 Б`, `58,6 КБ`, `20,1 МБ`."""
    n = int(count or 0)
    if n < 1024:
        return f"{n} Б"
    shown = f"{n / 1024:.1f} КБ" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} МБ"
    return shown.replace(".", ",")


def plural(count: Any, one: str, few: str, many: str) -> str:
    """The Russian word for a count: 1 раз, 2 раза, 5 раз, 21 раз, 22 раза, 11 раз."""
    n = abs(int(count or 0))
    if n % 10 == 1 and n % 100 != 11:
        return one
    return few if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else many


@cache
def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(default=True)
    )
    env.filters["when"] = when
    env.filters["status_ru"] = status_words
    env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
    env.filters["q"] = lambda v: quote(str(v), safe="")
    env.filters["plural"] = plural
    env.filters["size_ru"] = size_ru
    return env


def base() -> str:
    """The stage prefix API Gateway puts before our paths (`/api` on an execute-api URL, nothing on
    a custom domain or the local stack), so links, redirects and the cookie path hold everywhere."""
    request = console.current_request
    full = ((request.context or {}).get("path") or "") if request else ""
    path = request.path if request else ""
    return full[: -len(path)].rstrip("/") if path and full.endswith(path) and full != path else ""


def render(name: str, status: int = 200, **context: Any) -> Response:
    request = console.current_request
    here = (request.path if request else "") or ""  # the navigation marks the section it is in
    html = templates().get_template(name).render(base=base(), here=here, **context)
    return Response(
        body=html,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS},
    )


def redirect(location: str, cookie: str | None = None) -> Response:
    if location.startswith("/console"):
        location = base() + location
    headers: dict[str, str | list[str]] = {"Location": location, **SECURITY_HEADERS}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303, headers=headers)


def header(name: str) -> str | None:
    return request_header(console.current_request, name) or None


def signed_in() -> SignedIn:
    """The signed-in person, or a redirect to the login page."""
    signed = wiring.container().console_auth.signed_in(header("cookie"))
    if signed is None:
        raise Redirect("/console/login")
    if signed.tenant is None and not signed.operator:
        raise Refused(403, "у пользователя нет магазина")
    return signed


def form() -> dict[str, str]:
    body = body_bytes(console.current_request)
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def same_site() -> bool:
    """The request came from our own pages (or was typed): what a browser says in `Sec-Fetch-Site`
    and `Origin`. A cross-site form is refused even where no session (and so no CSRF token) exists
    yet — the login form, which would otherwise sign a victim into someone else's shop."""
    site = header("Sec-Fetch-Site")
    if site and site not in ("same-origin", "none"):
        return False
    origin = header("Origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc.lower() == (header("Host") or "").lower()


def owner_only(signed: SignedIn, what: str) -> None:
    """Webhooks, the signing secret, settings and users belong to the shop's owner (and operators)."""
    if not signed.owns:
        raise Refused(403, f"{what} может только владелец магазина или оператор")


def checked_form(signed: SignedIn) -> dict[str, str]:
    """The posted form, refused without this session's CSRF token."""
    data = form()
    if not wiring.container().console_auth.csrf_ok(signed, data.get("csrf")):
        raise Refused(403, "форма устарела или подделана (нет CSRF-токена): откройте страницу заново")
    return data


def checked_header(signed: SignedIn) -> None:
    if not wiring.container().console_auth.csrf_ok(signed, header("X-CSRF-Token")):
        raise Refused(403, "запрос без CSRF-токена: откройте страницу заново")


def record(signed: SignedIn, action: str, **detail: Any) -> None:
    """Every action a person takes is journaled with who took it."""
    wiring.container().console_store.record(
        signed.tenant or "-", {"who": signed.email, "action": action, **detail}
    )


@dataclass(frozen=True)
class Visit:
    """Who is on a shop's page: the signed-in person, the shop, and (a POST) the checked form."""

    signed: SignedIn
    tenant: Tenant
    form: dict[str, str]


def shop_page(handler: Callable[Concatenate[Visit, P], Response]) -> Callable[P, Response]:
    """A page of the signed-in person's shop: sign-in, the shop and (for a POST) the form with
    this session's CSRF token, once for every page; refusals and redirects as `page` gives them."""

    @wraps(handler)
    def visited(*args: P.args, **kwargs: P.kwargs) -> Response:
        signed = signed_in()
        posted = console.current_request.method == "POST"
        data = checked_form(signed) if posted else {}
        return handler(Visit(signed, tenant_of(signed), data), *args, **kwargs)

    return page(visited)


def page(handler: Callable[P, Response]) -> Callable[P, Response]:
    """Turn Redirect and Refused into responses; pages get the signed-in person."""

    @wraps(handler)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return handler(*args, **kwargs)
        except Redirect as exc:
            return redirect(exc.location, exc.cookie)
        except Refused as exc:
            return render("error.html", status=exc.status, message=exc.message, signed=None)

    return wrapped


def script_call(handler: Callable[P, Response]) -> Callable[P, Response]:
    """Calls the page's script makes (the upload): answers and refusals as JSON it can show."""

    @wraps(handler)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return handler(*args, **kwargs)
        except Redirect:
            return json_answer({"error": "вход в консоль истёк: откройте страницу заново"}, 401)
        except Refused as exc:
            return json_answer({"error": exc.message}, exc.status)

    return wrapped


def json_answer(data: dict[str, Any], status: int = 200) -> Response:
    return Response(
        body=json.dumps(data, ensure_ascii=False),
        status_code=status,
        headers={"Content-Type": "application/json", **SECURITY_HEADERS},
    )


def context(signed: SignedIn, **extra: Any) -> dict[str, Any]:
    accounts = wiring.container().accounts
    tenants = [t.id for t in accounts.store.list()] if signed.operator else []
    shown = extra.get("tenant") or (accounts.store.get(signed.tenant) if signed.tenant else None)
    zone = shown.settings.time_zone if isinstance(shown, Tenant) else DEFAULT_ZONE
    return {"signed": signed, "tenants": tenants, "zone": zone, **extra}


def tenant_of(signed: SignedIn) -> Tenant:
    if signed.tenant is None:
        raise Redirect("/console/tenants")
    return wiring.container().accounts.require(signed.tenant)
