"""录入问题: a supervisor records a finding (application.findings.record_finding).

While the supervisor types, the form asks ``POST /console/findings/similar`` (htmx,
debounced) for the unit's open cases the finding may repeat
(``application.duplicates.similar_open_cases``: the same check as the submit's) and
shows them with their light, unit, similarity band and a link; the person chooses to
merge the finding into one of them (``merge_into``) or to open a new case anyway
(``force_new``). Without JavaScript the submit asks the same question: a finding
submitted without a choice that may repeat an open case (either band) comes back with
the list and the two choices, keeping what was typed. The submit's own check
(``record_finding``) still decides when the list changed in between: the automatic
band merges, the possible band comes back here.

Long-term cases take milestone rows; "add a row" re-renders the form with one more
(no JavaScript needed).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.console.i18n import translate
from api.console.render import page
from api.console.sessions import PATH, Person, PersonPosting, console_services
from application.access import ensure_role
from application.case_lists import CaseQuery, case_page
from application.directory import cadres_of, subtree_of
from application.duplicates import similar_open_cases
from application.errors import Refusal
from application.findings import record_finding
from application.models import FindingIn
from domain.duplicates import Band, FindingText, SimilarCase
from domain.vocabulary import CaseKind, CaseStatus, Role, Source, TrafficLight

__all__ = ["milestone_message", "router"]

router = APIRouter()
MIN_ROWS = 3
NEW = "new"  # the choice "open a new case anyway"; any other choice is a case id
_OPEN = frozenset({CaseStatus.OPEN, CaseStatus.CLOSURE_PENDING})
# The form's fields in words, for the message of a field the model refused.
_FIELDS = {
    "title": "new.title_field",
    "description": "new.description",
    "source": "col.source",
    "unit_id": "col.unit",
    "cadre_id": "col.cadre",
    "kind": "col.kind",
    "deadline": "f.deadline",
    "target": "case.target",
    "category": "new.category",
    "severity": "new.severity",
    "milestones": "case.milestones",
    "merge_into": "dup.title",
}
_MILESTONE_PATH = re.compile(r"^milestones\.(\d+)(?:\.\w+)?\s*[：:]\s*")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open case the finding may repeat, as the form lists it."""

    case_id: str
    title: str
    unit_id: str
    unit_name: str
    light: TrafficLight | None
    score: Decimal
    band: Band

    @property
    def percent(self) -> int:
        return int((self.score * 100).to_integral_value())


def milestone_message(message: str, language: str) -> str:
    """A domain message about ``milestones.1.due`` with the milestone named for people
    (第 2 个阶段节点：…)."""
    found = _MILESTONE_PATH.match(message)
    if found is None:
        return message
    head = translate("ms.row", language).format(n=int(found.group(1)) + 1)
    return head + message[found.end() :]


async def _candidates(request: Request, person: Any, values: dict[str, str]) -> list[Candidate]:
    """The unit's open cases the typed finding may repeat, best first (none until a
    unit and a title are given)."""
    unit_id = values.get("unit_id", "").strip()
    title = values.get("title", "").strip()
    if not unit_id or not title:
        return []
    services = console_services(request)
    caller = person.caller
    text = FindingText(
        title=title,
        description=values.get("description", ""),
        category=values.get("category") or None,
    )
    try:
        found = await similar_open_cases(services, caller, unit_id, text)
    except Refusal:
        return []  # a unit outside the scope: the submit says so
    if not found:
        return []
    query = CaseQuery(
        unit=unit_id,
        filters={"unit_ids": frozenset({unit_id}), "statuses": _OPEN},
        limit=1000,
    )
    rows = {row.case_id: row for row in (await case_page(services, caller, query)).items}
    names = {u.unit_id: u.name for u in await subtree_of(services, unit_id)}
    return [
        Candidate(
            case_id=c.case_id,
            title=c.title,
            unit_id=unit_id,
            unit_name=names.get(unit_id, unit_id),
            light=rows[c.case_id].light if c.case_id in rows else None,
            score=c.score,
            band=c.band,
        )
        for c in found
    ]


async def _form(
    request: Request,
    person: Any,
    values: dict[str, Any],
    rows: list[tuple[str, str]],
    error: str | None = None,
    status: int = 200,
    candidates: list[Candidate] | None = None,
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
            "candidates": candidates or [],
            "asked": bool(values.get("unit_id") and values.get("title")),
            "choice": values.get("choice", ""),
        },
        status,
    )


@router.get("/findings/new")
async def new_finding(request: Request, person: Person) -> Response:
    ensure_role(person.caller.actor, Role.SUPERVISOR)
    return await _form(request, person, {"kind": "time_limited", "source": "audit"}, [])


@router.post("/findings/similar")
async def similar_findings(request: Request, person: PersonPosting) -> Response:
    """The list of possible duplicates, for the form to show while the person types."""
    ensure_role(person.caller.actor, Role.SUPERVISOR)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    candidates = await _candidates(request, person, values)
    return page(
        request,
        "partials/finding_duplicates.html",
        {
            "candidates": candidates,
            "asked": bool(values.get("unit_id") and values.get("title")),
            "choice": values.get("choice", ""),
        },
    )


def _listed(refusal: Refusal, values: dict[str, str]) -> list[Candidate]:
    """The candidates a ``possible_duplicate`` refusal names (without their light)."""
    unit_id = values.get("unit_id", "")
    found = [SimilarCase.model_validate(c) for c in refusal.extra.get("candidates", [])]
    return [Candidate(c.case_id, c.title, unit_id, unit_id, None, c.score, c.band) for c in found]


def _finding(values: dict[str, str], rows: list[tuple[str, str]]) -> FindingIn:
    milestones = [{"title": t, "due": d} for t, d in rows if t.strip() or d.strip()]
    choice = values.get("choice", "")
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
        "force_new": choice == NEW,
        "merge_into": choice if choice and choice != NEW else None,
    }
    return FindingIn.model_validate(body)


def _wrong_fields(exc: ValidationError, language: str) -> str:
    """Each refused field by its label, with the rule's own message where it has one."""
    parts = []
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        if loc[:1] == ["milestones"] and len(loc) > 1 and loc[1].isdigit():
            where = translate("ms.row", language).format(n=int(loc[1]) + 1).rstrip("：: ")
        else:
            where = translate(_FIELDS.get(loc[0], loc[0]), language) if loc else ""
        ctx = e.get("ctx") or {}
        if language == "en":
            what = str(ctx.get("message_en") or e["msg"])
        else:
            what = str(ctx.get("message_zh") or translate("new.invalid", language))
        parts.append(f"{where}：{what}" if language != "en" else f"{where}: {what}")
    head = translate("new.check", language)
    return head + ("; " if language == "en" else "；").join(parts)


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
        candidates = await _candidates(request, person, values)
        return await _form(request, person, values, rows, candidates=candidates)
    language = request.state.console_language
    try:
        finding = _finding(values, rows)
        if not values.get("choice"):
            # A person is at the form: any open case it may repeat, in either band, is
            # shown for them to choose before anything is recorded (as the live list does).
            candidates = await _candidates(request, person, values)
            if candidates:
                message = translate("dup.must_choose", language)
                return await _form(request, person, values, rows, message, 409, candidates)
        recorded = await record_finding(
            console_services(request),
            person.caller,
            finding,
            idempotency_key=f"console-{values.get('form_key') or uuid.uuid4().hex}",
        )
    except ValidationError as exc:
        candidates = await _candidates(request, person, values)
        message = _wrong_fields(exc, language)
        return await _form(request, person, values, rows, message, 422, candidates)
    except Refusal as refusal:
        # A new key for the corrected form: the refused one keeps its answer.
        values["form_key"] = uuid.uuid4().hex
        candidates = await _candidates(request, person, values)
        if refusal.code == "possible_duplicate":
            # The person chooses: merge into one of the listed cases, or open a new one.
            values.pop("choice", None)
            candidates = candidates or _listed(refusal, values)
            message = translate("dup.must_choose", language)
        else:
            message = milestone_message(refusal.message(language), language)
        return await _form(request, person, values, rows, message, refusal.status, candidates)
    done = "opened" if recorded.opened else "merged"
    return RedirectResponse(f"{PATH}/cases/{recorded.case.case_id}?done={done}", status_code=303)
