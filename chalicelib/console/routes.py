"""Console pages: signing in, the exchanges with their journal and diffs, the exchange by hand
(upload, replay, resume), and the static files. Catalog, orders, webhooks, settings and users are
in `pages.py`. Everything is read from the same journal and stores as the CLI and the shop API."""

from __future__ import annotations

import csv
import io
import posixpath
import re
import time
from typing import Any

from chalice import Response

from chalicelib import journal, wiring
from chalicelib.console.auth import ConsoleError
from chalicelib.console.excerpt import excerpt, failing_line, same_error_count
from chalicelib.console.sample import sample_files
from chalicelib.console.web import (
    FORM,
    HERE,
    Redirect,
    Refused,
    Visit,
    base,
    checked_form,
    checked_header,
    console,
    context,
    form,
    json_answer,
    owner_only,
    page,
    record,
    render,
    same_site,
    script_call,
    shop_page,
    signed_in,
    tenant_of,
)
from chalicelib.http import body_bytes, query_params
from chalicelib.ids import AreaId
from chalicelib.importjob import FINAL_STATUSES
from chalicelib.layout import Paths
from chalicelib.settings import settings
from chalicelib.tenants import Tenant
from chalicelib.values import BY_HAND

STATIC = {
    "console.js": ("static/console.js", "text/javascript"),
    "console.css": ("static/console.css", "text/css"),
    "chart.umd.js": ("static/vendor/chart.umd.js", "text/javascript"),  # npm chart.js (make setup)
}
LINK_SECONDS = 300  # a raw file's download link
ASCII_DIGITS = re.compile(r"[0-9]{1,6}")  # str.isdigit() takes "²", which int() refuses
CHART_DAYS, MAX_CHART_ORDERS = 30, 5_000


@console.route("/", methods=["GET"])
@page
def home() -> Response:
    signed_in()
    raise Redirect("/console/exchanges")


@console.route("/login", methods=["GET"])
@page
def login_form() -> Response:
    return render("login.html", signed=None, error=None)


@console.route("/login", methods=["POST"], content_types=FORM)
@page
def login() -> Response:
    if not same_site():
        raise Refused(403, "вход отклонён: форма отправлена с другого сайта — откройте страницу входа заново")
    data = form()
    source = ((console.current_request.context or {}).get("identity") or {}).get("sourceIp") or "unknown"
    auth = wiring.container().console_auth
    try:
        value, signed = auth.login(data.get("email", ""), data.get("password", ""), source)
    except ConsoleError as exc:
        return render("login.html", status=401, signed=None, error=str(exc))
    record(signed, "login")
    raise Redirect("/console/exchanges", auth.cookie(value, base=base()))


@console.route("/logout", methods=["POST"], content_types=FORM)
@page
def logout() -> Response:
    signed = signed_in()
    checked_form(signed)
    auth = wiring.container().console_auth
    auth.logout(signed)
    raise Redirect("/console/login", auth.cookie(clear=True, base=base()))


DIFF_PAGE = 200  # products of a diff on one page (the CSV has them all)
EXCHANGES_PAGE = 30
EXCHANGE_FILTERS = {"catalog": "каталог", "sale": "заказы", "failed": "с ошибкой"}


def _shown(row: dict[str, Any], show: str) -> bool:
    """An exchange row under a filter: catalog or orders exchanges, or those with a failure."""
    if show == "failed":
        return "failed" in str(row.get("outcome")) or "stalled" in str(row.get("outcome"))
    return not show or row.get("type") == show


# -- exchanges ----------------------------------------------------------------------------------
@console.route("/exchanges", methods=["GET"])
@shop_page
def exchanges(visit: Visit) -> Response:
    signed, tenant = visit.signed, visit.tenant
    store = wiring.container().exchange_store
    params = query_params(console.current_request)
    shown = params.get("show") or ""
    shown = shown if shown in EXCHANGE_FILTERS else ""
    before = params.get("before") or None
    page_rows = journal.exchanges(store, tenant.id, limit=EXCHANGES_PAGE, before=before)
    older = page_rows[-1]["id"] if len(page_rows) == EXCHANGES_PAGE else None
    rows = [r for r in page_rows if _shown(r, shown)]
    latest = page_rows if before is None else journal.exchanges(store, tenant.id, limit=EXCHANGES_PAGE)
    jobs = store.jobs(tenant.id, limit=500)
    events = wiring.container().outbox.recent(tenant.id, limit=500)
    charts = journal.daily(jobs, _orders_since(tenant, CHART_DAYS), events, CHART_DAYS)
    actions = wiring.container().console_store.actions(tenant.id, limit=15)
    stalled = [j for j in jobs if j.status == "stalled"]
    overdue = wiring.container().exchange_watch.overdue(tenant.id, tenant.settings.overdue_hours)
    top = journal.banner(jobs, latest, overdue)
    return render(
        "exchanges.html",
        **context(
            signed,
            rows=rows,
            charts=charts,
            actions=actions,
            stalled=stalled,
            banner=top,
            tenant=tenant,
            show=shown,
            filters=EXCHANGE_FILTERS,
            older=older,
            paged=before is not None,
        ),
    )


def _orders_since(tenant: Any, days: int) -> list[dict[str, Any]]:
    """The orders of the chart's days, page by page (at most MAX_CHART_ORDERS)."""
    since = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() - days * 86_400))
    found: list[dict[str, Any]] = []
    cursor = None
    while len(found) < MAX_CHART_ORDERS:
        page = wiring.container().orders.list(tenant, None, since, cursor, 100)
        found += page["orders"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    return found


@console.route("/exchanges/{session_id}", methods=["GET"])
@shop_page
def exchange(visit: Visit, session_id: str) -> Response:
    signed, tenant = visit.signed, visit.tenant
    detail = journal.exchange(wiring.container().exchange_store, tenant.id, session_id)
    if detail is None:
        raise Refused(404, f"обмена {session_id} нет в этом магазине")
    diffs = {
        job["id"]: journal.diff(wiring.container().blobs, tenant.id, job["id"]) for job in detail["jobs"]
    }
    running = any(job["status"] not in (*FINAL_STATUSES, journal.PENDING) for job in detail["jobs"])
    failures = {job["id"]: _failure(tenant, job) for job in detail["jobs"] if job["status"] == "failed"}
    show = query_params(console.current_request).get("show", "")
    show = show if show in journal.DIFF_OPS else ""
    number = query_params(console.current_request).get("page", "1")
    shown_page = int(number) if number.isdigit() and 0 < int(number) < 10_000 else 1
    page = {
        "x": detail, "diffs": diffs, "running": running, "failures": failures, "show": show,
        "orders": _orders_of(tenant, detail) if detail.get("type") == "sale" else {},
        "page": shown_page, "per_page": DIFF_PAGE, "ops": journal.DIFF_OPS,
        "counted": journal.DIFF_COUNTED,
    }  # fmt: skip
    return render("exchange.html", **context(signed, **page))


def _orders_of(tenant: Tenant, session: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The orders an orders exchange offered 1C (its `mode=query`) and those 1C's documents
    updated in it, as they stand now."""
    store = wiring.container().orders.store

    def read(ids: list[str]) -> list[dict[str, Any]]:
        return [order for order in (store.get(tenant.id, i) for i in ids[:200]) if order]

    return {
        "taken": read(store.queried(tenant.id, session["id"]) or []),
        "updated": read(list(session.get("orders_updated_ids") or [])),
    }


def _failure(tenant: Tenant, job: dict[str, Any]) -> dict[str, Any]:
    """A failed file as an error tracker shows it: its lines around the error, and the same error
    in the recent exchanges."""
    services = wiring.container()
    recent = [j.error for j in services.exchange_store.jobs(tenant.id, limit=50) if j.status == "failed"]
    found: dict[str, Any] = {"repeats": same_error_count(job["error"] or "", recent)}
    line = failing_line(job["error"])
    if line and job.get("area"):
        try:
            stream, _ = services.import_worker.prepare.open_file(tenant.id, job["area"], job["file"])
        except Exception:  # the file is gone (kept 30 days) or was never stored: no excerpt
            return found
        with stream:
            found.update(excerpt(stream, line), line=line)
    return found


@console.route("/exchanges/{session_id}/file", methods=["GET"])
@shop_page
def download(visit: Visit, session_id: str) -> Response:
    """A raw uploaded chunk, through an S3 link that lives LINK_SECONDS and downloads (never
    renders: a sale file holds customers, a catalog file may hold anything)."""
    signed, tenant = visit.signed, visit.tenant
    params = query_params(console.current_request)
    area, name, number = params.get("area", ""), params.get("name", ""), params.get("part", "1")
    parsed = AreaId.parse(area)
    if parsed is None or str(parsed.session) != session_id:
        raise Refused(404, "нет такого файла")
    upload = wiring.container().exchange_store.uploaded_file(tenant.id, area, name)
    parts = upload.parts if upload else ()
    if not ASCII_DIGITS.fullmatch(number) or not 1 <= int(number) <= len(parts):
        raise Refused(404, "нет такого файла")
    record(signed, "download", file=name, part=int(number))
    key = Paths(tenant.id).part(area, name, parts[int(number) - 1])
    suffix = f".part{number}" if len(parts) > 1 else ""
    raise Redirect(
        wiring.container().blobs.url(key, LINK_SECONDS, download_as=f"{posixpath.basename(name)}{suffix}")
    )


@console.route("/exchanges/{session_id}/diff.csv", methods=["GET"])
@shop_page
def diff_csv(visit: Visit, session_id: str) -> Response:
    """One import's whole diff as CSV (Excel opens it: UTF-8 with a BOM, `;`-separated)."""
    job_id = query_params(console.current_request).get("job", "")
    if not job_id.startswith(f"{session_id}-") and not job_id.startswith(f"{session_id}#"):
        raise Refused(404, "нет такой загрузки в этом обмене")
    rows = journal.diff(wiring.container().blobs, visit.tenant.id, job_id)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "Ид",
            "что",
            "название было",
            "название стало",
            "цена была",
            "цена стала",
            "остаток был",
            "остаток стал",
            "цены по типам",
        ]
    )
    words = journal.DIFF_OPS
    for row in rows:
        cells = [row.get(field) or [None, None] for field in ("name", "price_min", "stock")]
        writer.writerow(
            [
                row.get("id"),
                words.get(row.get("op", ""), row.get("op")),
                *(v for pair in cells for v in pair),
                "; ".join(f"{name} {was or '—'}→{now or '—'}" for name, was, now in row.get("prices") or []),
            ]
        )
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="diff-{session_id[:12]}.csv"',
    }
    return Response(body="\ufeff" + out.getvalue(), status_code=200, headers=headers)


@console.route("/sample", methods=["POST"], content_types=FORM)
@shop_page
def sample(visit: Visit) -> Response:
    """«Загрузить пример»: a small catalog through the protocol 1C uses (console/sample.py)."""
    signed, tenant = visit.signed, visit.tenant
    owner_only(signed, "загружать пример каталога")
    token = wiring.container().by_hand.send(tenant, signed.email, sample_files())
    record(signed, "sample", exchange=token)
    raise Redirect(f"/console/exchanges/{token}")


@console.route("/jobs/resume", methods=["POST"], content_types=FORM)
@shop_page
def resume(visit: Visit) -> Response:
    signed, tenant = visit.signed, visit.tenant
    data = visit.form
    if not wiring.container().import_worker.resume(tenant.id, data.get("job", "")):
        raise Refused(
            404, "нет такой прерванной загрузки (идущую или ждущую в очереди возобновлять не нужно)"
        )
    record(signed, "resume", job=data["job"])
    raise Redirect(f"/console/exchanges/{data['job'].split('-', 1)[0]}")


@console.route("/jobs/skip", methods=["POST"], content_types=FORM)
@shop_page
def skip(visit: Visit) -> Response:
    """«Пропустить файл»: a stalled file that cannot be finished stops holding the shop's imports."""
    signed, tenant = visit.signed, visit.tenant
    data = visit.form
    owner_only(signed, "пропустить файл")
    if not wiring.container().import_worker.skip(tenant.id, data.get("job", ""), signed.email):
        raise Refused(404, "нет такой прерванной загрузки")
    record(signed, "skip", job=data["job"])
    raise Redirect("/console/exchanges")


# -- the exchange by hand: the page's script sends the file in chunks ---------------------------
def _upload_request() -> tuple[Any, Any, str]:
    signed = signed_in()
    checked_header(signed)
    name = query_params(console.current_request).get("filename", "").strip()
    if not name:
        raise Refused(400, "нет имени файла")
    return signed, tenant_of(signed), name


@console.route("/upload/start", methods=["POST"], content_types=["application/octet-stream", *FORM])
@script_call
def upload_start() -> Response:
    """A new exchange session; the script sends chunks of the size 1C would (`file_limit`)."""
    signed, tenant, name = _upload_request()
    cookie = wiring.container().by_hand.start(tenant, signed.email)
    record(signed, "upload", file=name, exchange=cookie.partition(".")[2])
    return json_answer({"upload": cookie.partition(".")[2], "chunk": settings().file_limit})


def _accepted(answer: Any) -> Any:
    """The protocol's answer, or its `failure` reason as the script's error (the upload stops)."""
    if answer.keyword == "failure":
        raise Refused(422, " ".join(answer.body.splitlines()[1:]) or answer.body)
    return answer


def _cookie_for(tenant_id: str, email: str) -> str:
    """The exchange session this person's upload opened (never 1C's or another person's)."""
    token = query_params(console.current_request).get("upload", "")
    session = wiring.container().exchange_store.get_session(tenant_id, token) if token else None
    if session is None or session.get("source") != f"{BY_HAND}{email}":
        raise Refused(404, "нет такой загрузки")
    return f"{tenant_id}.{token}"


@console.route("/upload/chunk", methods=["POST"], content_types=["application/octet-stream"])
@script_call
def upload_chunk() -> Response:
    """One chunk through the protocol's `file`; its `failure` is the script's error (it stops)."""
    signed, tenant, name = _upload_request()
    body = body_bytes(console.current_request)
    answer = _accepted(wiring.container().by_hand.chunk(_cookie_for(tenant.id, signed.email), name, body))
    return json_answer({"answer": answer.body})


@console.route("/upload/finish", methods=["POST"], content_types=["application/octet-stream", *FORM])
@script_call
def upload_finish() -> Response:
    """One `import` of the uploaded file: a zip is one job, whose members the worker walks."""
    signed, tenant, name = _upload_request()
    cookie = _cookie_for(tenant.id, signed.email)
    by_hand = wiring.container().by_hand
    older = by_hand.older_than_the_shop(cookie, name)
    if older and query_params(console.current_request).get("confirm") != "1":
        formed, newest = (value.replace("T", " ") for value in older)
        message = (
            f"{name} сформирован в 1С {formed}, а каталог на сайте — из файла от {newest}: этот файл "
            "старше, и его цены и остатки заменят более новые до следующего обмена 1С. Загрузить всё равно?"
        )
        return json_answer({"error": message, "older": True}, 409)
    answer = _accepted(by_hand.finish(cookie, name))
    return json_answer({"answers": [answer.body], "exchange": cookie.partition(".")[2]})


@console.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    if name not in STATIC:
        return Response(body="", status_code=404)
    path, content_type = STATIC[name]
    file = HERE / path
    if not file.exists():
        return Response(body="/* run make setup: the chart library comes from npm */", status_code=404)
    headers: dict[str, str | list[str]] = {
        "Content-Type": content_type,
        "Cache-Control": "max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=file.read_text(encoding="utf-8"), status_code=200, headers=headers)
