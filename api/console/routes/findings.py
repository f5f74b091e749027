"""录入问题: a supervisor records a finding (application.findings.record_finding).

Long-term cases take milestone rows; "add a row" re-renders the form with one more
(no JavaScript needed). A finding that repeats an open case of the unit is merged
into it (减负) unless "open a new case" is ticked; the answer says which.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.console.render import page
from api.console.sessions import PATH, Person, PersonPosting, console_services
from application.access import ensure_role
from application.directory import cadres_of, subtree_of
from application.errors import Refusal
from application.findings import record_finding
from application.models import FindingIn
from domain.vocabulary import CaseKind, Role, Source

__all__ = ["router"]

router = APIRouter()
MIN_ROWS = 3


async def _form(
    request: Request,
    person: Any,
    values: dict[str, Any],
    rows: list[tuple[str, str]],
    error: str | None = None,
    status: int = 200,
) -> Response:
    services = console_services(request)
    root = person.caller.actor.unit_id or ""
    units = await subtree_of(services, root)
    unit_ids = {u.unit_id for u in units}
    cadres = [c for c in await cadres_of(services, None) if c.unit_id in unit_ids]
    while len(rows) < MIN_ROWS:
        rows.append(("", ""))
    return page(
        request,
        "finding_new.html",
        {
            "v": values,
            "rows": rows,
            "error": error,
            "units": units,
            "cadres": cadres,
            "sources": list(Source),
            "kinds": list(CaseKind),
            "form_key": values.get("form_key") or uuid.uuid4().hex,
        },
        status,
    )


@router.get("/findings/new")
async def new_finding(request: Request, person: Person) -> Response:
    ensure_role(person.caller.actor, Role.SUPERVISOR)
    return await _form(request, person, {"kind": "time_limited", "source": "audit"}, [])


def _finding(values: dict[str, str], rows: list[tuple[str, str]]) -> FindingIn:
    milestones = [{"title": t, "due": d} for t, d in rows if t.strip() or d.strip()]
    body: dict[str, Any] = {
        "title": values.get("title", ""),
        "description": values.get("description", ""),
        "source": values.get("source", ""),
        "category": values.get("category") or None,
        "severity": values.get("severity") or None,
        "unit_id": values.get("unit_id", ""),
        "cadre_id": values.get("cadre_id", ""),
        "kind": values.get("kind") or "time_limited",
        "deadline": values.get("deadline") or None,
        "target": values.get("target", ""),
        "milestones": milestones,
        "force_new": values.get("force_new") == "on",
    }
    return FindingIn.model_validate(body)


def _wrong_fields(exc: ValidationError, language: str) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e["loc"])
        parts.append(f"{where}: {e['msg']}")
    head = "Check these fields: " if language == "en" else "请检查以下内容："
    return head + "; ".join(parts)


@router.post("/findings")
async def post_finding(request: Request, person: PersonPosting) -> Response:
    ensure_role(person.caller.actor, Role.SUPERVISOR)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    titles = [v for v in form.getlist("milestone_title") if isinstance(v, str)]
    dues = [v for v in form.getlist("milestone_due") if isinstance(v, str)]
    rows = list(zip(titles, dues, strict=False))
    if "add_row" in form:
        rows.append(("", ""))
        return await _form(request, person, values, rows)
    language = request.state.console_language
    try:
        finding = _finding(values, rows)
        recorded = await record_finding(
            console_services(request),
            person.caller,
            finding,
            idempotency_key=f"console-{values.get('form_key') or uuid.uuid4().hex}",
        )
    except ValidationError as exc:
        return await _form(request, person, values, rows, _wrong_fields(exc, language), 422)
    except Refusal as refusal:
        # A new key for the corrected form: the refused one keeps its answer.
        values["form_key"] = uuid.uuid4().hex
        return await _form(request, person, values, rows, refusal.message(language), refusal.status)
    done = "opened" if recorded.opened else "merged"
    return RedirectResponse(f"{PATH}/cases/{recorded.case.case_id}?done={done}", status_code=303)
