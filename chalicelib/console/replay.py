"""«Повторить загрузку этих файлов» asks first: what the files will change (goods and groups,
prices and stock) and whether they are older than what the shop shows now (later imports came:
their prices and stock go back to that exchange's until 1C's next). Holds of orders 1C has taken
are never released by a person's upload (exchange/finish.py)."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib import journal, wiring
from chalicelib.console.web import FORM, Redirect, Refused, Visit, console, context, record, render, shop_page
from chalicelib.ids import SessionToken
from chalicelib.importjob import JobKind, JobStatus

GOODS = ("import", "goods", "groups", "properties")  # 1C's file names for the catalog itself
OFFERS = ("offers", "prices", "rests")


def _began_ms(session: str, fallback_seconds: int) -> int:
    """When 1C (or a person) began an exchange, to the millisecond its session id carries."""
    began = SessionToken(session).began_ms if session else None
    return began if began is not None else fallback_seconds * 1000


def _what(files: list[dict[str, Any]]) -> list[str]:
    names = [f["name"].rsplit("/", 1)[-1].lower() for f in files]
    kinds = []
    if any(n.startswith(GOODS) or n.endswith(".zip") for n in names):
        kinds.append("товары и группы (названия, описания, свойства, картинки)")
    if any(n.startswith(OFFERS) or n.endswith(".zip") for n in names):
        kinds.append("цены и остатки")
    return kinds


@console.route("/exchanges/{session_id}/replay", methods=["GET"])
@shop_page
def confirm(visit: Visit, session_id: str) -> Response:
    signed, tenant = visit.signed, visit.tenant
    detail = journal.exchange(wiring.container().exchange_store, tenant.id, session_id)
    if detail is None or not detail["files"]:
        raise Refused(404, f"у обмена {session_id} нет сохранённых файлов")
    began = _began_ms(session_id, int(detail["started_at"] or 0))
    later = sorted(
        (
            j
            for j in wiring.container().exchange_store.jobs(tenant.id, limit=500)
            if j.kind == JobKind.IMPORT and j.status == JobStatus.DONE and _began_ms(j.session, j.created_at) > began
        ),
        key=lambda j: j.created_at,
    )  # fmt: skip
    page = {
        "x": detail,
        "what": _what(detail["files"]),
        "later": len(later),
        "latest": later[-1] if later else None,
    }
    return render("replay.html", **context(signed, **page))


@console.route("/exchanges/{session_id}/replay", methods=["POST"], content_types=FORM)
@shop_page
def replay(visit: Visit, session_id: str) -> Response:
    """Only once the person has read what it will do (`confirm=1`, the confirmation page's)."""
    signed, tenant = visit.signed, visit.tenant
    if visit.form.get("confirm") != "1":
        if journal.exchange(wiring.container().exchange_store, tenant.id, session_id) is None:
            raise Refused(404, f"у обмена {session_id} нет сохранённых файлов")
        raise Redirect(f"/console/exchanges/{session_id}/replay")
    token = wiring.container().by_hand.replay(tenant, signed.email, session_id)
    if token is None:
        raise Refused(404, f"у обмена {session_id} нет сохранённых файлов")
    record(signed, "replay", exchange=session_id, new_exchange=token)
    raise Redirect(f"/console/exchanges/{token}")
