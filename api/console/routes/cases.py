"""The case list (filters, sorts, counts by light, cursor pages) and the case page
with its action forms, evidence upload, download and preview."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from itertools import zip_longest
from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api.console.forms import FORMS, build_command
from api.console.i18n import translate
from api.console.render import page
from api.console.routes.choices import Choices, form_choices
from api.console.routes.findings import milestone_message
from api.console.sessions import PATH, Person, PersonPosting, console_services
from application.actions import ACTIONS, REVISED_PLAN
from application.case_lists import CaseQuery, board, case_page
from application.case_sheet import case_sheet
from application.commands import run_command
from application.directory import cadres_of, unit_names_in_scope
from application.errors import Refusal
from application.evidence import download_evidence, upload_evidence
from application.ledgers.exports import iter_file, ledger_xlsx
from application.models import ID_PATTERN, EvidenceOut
from domain.commands import Command, SetMilestones
from domain.values import Evidence
from domain.vocabulary import CaseKind, CaseStatus, Source, TrafficLight
from store.projections.case_summary import CaseSort

__all__ = ["router"]

router = APIRouter()
CaseId = Annotated[str, Path(pattern=ID_PATTERN)]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORTS = ("deadline", "-deadline", "last_activity", "-last_activity", "opened_at", "-opened_at")


def _bad(field: str) -> Refusal:
    return Refusal(422, "invalid_filter", f"筛选条件 {field} 无效", f"invalid filter {field}")


def _enum(kind: Any, value: str | None, field: str) -> Any:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError as exc:
        raise _bad(field) from exc


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _bad(field) from exc


def _filters(q: dict[str, str]) -> dict[str, object]:
    status = _enum(CaseStatus, q.get("status"), "status")
    light = _enum(TrafficLight, q.get("light"), "light")
    level = q.get("escalation_level") or None
    if level is not None and level not in ("0", "1", "2", "3", "4"):
        raise _bad("escalation_level")
    overdue = {"true": True, "false": False}.get(q.get("overdue", ""))
    return {
        "statuses": frozenset({status}) if status else None,
        "lights": frozenset({light}) if light else None,
        "source": _enum(Source, q.get("source"), "source"),
        "category": q.get("category") or None,
        "kind": _enum(CaseKind, q.get("kind"), "kind"),
        "overdue": overdue,
        "escalation_level": int(level) if level is not None else None,
        "deadline_from": _date(q.get("deadline_from"), "deadline_from"),
        "deadline_to": _date(q.get("deadline_to"), "deadline_to"),
        "cadre_id": q.get("cadre") or None,
    }


def _query(q: dict[str, str], limit: int = 25) -> CaseQuery:
    sort = q.get("sort", "deadline")
    if sort not in SORTS:
        raise _bad("sort")
    return CaseQuery(
        unit=q.get("unit") or None,
        filters=_filters(q),
        sort=cast(CaseSort, sort),
        cursor=q.get("cursor"),
        limit=limit,
    )


@router.get("/cases/export")
async def case_list_export(request: Request, person: Person) -> Response:
    """The list as it is filtered, as the 整改台账 (the ledger use case, the API's file)."""
    q = {k: v for k, v in request.query_params.items() if v and k != "cursor"}
    path = await ledger_xlsx(console_services(request), person.caller, _query(q))
    name = quote("整改台账.xlsx")
    return StreamingResponse(
        iter_file(path),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.get("/cases")
async def case_list(request: Request, person: Person) -> Response:
    services = console_services(request)
    q = {k: v for k, v in request.query_params.items() if v}
    query = _query(q)
    unit = query.unit
    found = await case_page(services, person.caller, query)
    overview = await board(services, person.caller, unit)
    kept = {k: v for k, v in q.items() if k != "cursor"}
    # The list shows units by name, and the filter offers them.
    names = await unit_names_in_scope(services, person.caller)
    cadres = [c for c in await cadres_of(services, None) if c.unit_id in names]
    return page(
        request,
        "cases.html",
        {
            "page": found,
            "q": q,
            "kept": kept,
            "total": overview.total,
            "unit_names": names,
            "cadres": cadres,
            "sorts": SORTS,
            "statuses": list(CaseStatus),
            "lights": list(TrafficLight),
            "sources": list(Source),
            "kinds": list(CaseKind),
        },
    )


async def _case_page(
    request: Request,
    person: Any,
    case_id: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    status: int = 200,
    milestone_rows: list[MilestoneRow] | None = None,
) -> Response:
    sheet = await case_sheet(console_services(request), person.caller, case_id)
    done = request.query_params.get("done")
    state = sheet.case.state
    if milestone_rows is None:  # the case's milestones, and a free row for a new one
        milestone_rows = [
            MilestoneRow(m.milestone_id, m.title, m.due.isoformat()) for m in state.milestones
        ]
        milestone_rows.append(MilestoneRow("", "", ""))
    reported = {m.milestone_id for m in state.milestones if m.reported}
    wanted = sheet.action_names & {"assign", "reassign", "merge-into"}
    choices = await form_choices(request, person, sheet) if wanted else Choices()
    return page(
        request,
        "case.html",
        {
            "choices": choices,
            "sheet": sheet,
            "s": sheet.case.state,
            "forms": FORMS,
            "errors": errors or {},
            "typed": typed or {},
            "done": done,
            "done_label": _done_label(
                done,
                request.state.console_language,
                revised_plan=sum(e.type == "PlanSubmitted" for e in sheet.case.events) > 1,
            ),
            "milestone_rows": milestone_rows,
            "reported": reported,
        },
        status,
    )


@dataclass(frozen=True, slots=True)
class MilestoneRow:
    """One row of the milestones form: an id (empty for a new milestone), what, when."""

    milestone_id: str
    title: str
    due: str


_OTHER_DONE = {
    "evidence": ("上传佐证材料", "Evidence uploaded"),
    "opened": ("立项整改", "Case opened"),
}


def _done_label(done: str | None, language: str, *, revised_plan: bool = False) -> str:
    """What was just done, in words: a plan sent again is a revision (修改整改方案)."""
    if done == "plan" and revised_plan:
        zh, en = REVISED_PLAN
    elif done in ACTIONS:
        zh, en, _ = ACTIONS[done]
    elif done in _OTHER_DONE:
        zh, en = _OTHER_DONE[done]
    else:
        return done or ""
    return en if language == "en" else zh


@router.get("/cases/{case_id}")
async def case_view(request: Request, person: Person, case_id: CaseId) -> Response:
    return await _case_page(request, person, case_id)


async def _upload(request: Request, person: Any, case_id: str, file: UploadFile) -> EvidenceOut:
    services = console_services(request)
    limit = services.settings.evidence_max_bytes
    content = await file.read(limit + 1)
    name = (file.filename or "file").rsplit("/", 1)[-1][:255] or "file"
    return await upload_evidence(
        services, person.caller, case_id, name, "application/octet-stream", content
    )


@router.post("/cases/{case_id}/evidence")
async def evidence_upload(request: Request, person: PersonPosting, case_id: CaseId) -> Response:
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        language = request.state.console_language
        message = "请选择文件" if language != "en" else "choose a file"
        return await _case_page(request, person, case_id, errors={"evidence": message}, status=422)
    try:
        await _upload(request, person, case_id, file)
    except Refusal as refusal:
        if refusal.status == 404:
            raise
        message = refusal.message(request.state.console_language)
        return await _case_page(
            request, person, case_id, errors={"evidence": message}, status=refusal.status
        )
    return RedirectResponse(f"{PATH}/cases/{case_id}?done=evidence#evidence", status_code=303)


@router.get("/cases/{case_id}/evidence/{content_hash}")
async def evidence_download(
    request: Request,
    person: Person,
    case_id: CaseId,
    content_hash: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    found = await download_evidence(console_services(request), person.caller, case_id, content_hash)
    inline = found.media_type.startswith("image/") or found.media_type == "application/pdf"
    disposition = "inline" if inline else "attachment"
    return Response(
        found.content,
        media_type=found.media_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.post("/cases/{case_id}/do/{action}")
async def case_action(
    request: Request, person: PersonPosting, case_id: CaseId, action: str
) -> Response:
    if action not in FORMS:
        raise Refusal(404, "not_found", "没有这个操作", "no such action")
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    typed = {action: values}
    language = request.state.console_language
    decision = values.get("decision") or None
    evidence: list[Evidence] = []
    try:
        file = form.get("file")
        if FORMS[action][1] and isinstance(file, UploadFile) and file.filename:
            uploaded = await _upload(request, person, case_id, file)
            evidence.append(Evidence(**uploaded.model_dump()))
        try:
            command = build_command(action, decision, values, person.caller.actor, evidence)
        except KeyError as exc:
            raise Refusal(422, "decision_missing", "请选择决定", "choose a decision") from exc
        except ValidationError as exc:
            wrong = ", ".join(str(e["loc"][-1]) for e in exc.errors() if e["loc"])
            raise Refusal(
                422,
                "invalid_input",
                f"请检查填写的内容：{wrong}",
                f"check what you entered: {wrong}",
            ) from exc
        # One key per submitted form: a double click does not run the command twice.
        key = values.get("form_key") or uuid.uuid4().hex
        await run_command(
            console_services(request),
            person.caller,
            case_id,
            command,
            idempotency_key=f"console-{key}",
            fingerprint={"action": action, "values": values},
        )
    except Refusal as refusal:
        if refusal.status == 404:
            raise
        return await _case_page(
            request,
            person,
            case_id,
            errors={action: refusal.message(language)},
            typed=typed,
            status=refusal.status,
        )
    return RedirectResponse(f"{PATH}/cases/{case_id}?done={action}", status_code=303)


def _milestone_rows(form: Any) -> list[MilestoneRow]:
    columns = [
        [v for v in form.getlist(name) if isinstance(v, str)]
        for name in ("milestone_id", "milestone_title", "milestone_due")
    ]
    return [
        MilestoneRow(mid, title, due) for mid, title, due in zip_longest(*columns, fillvalue="")
    ]


def _set_milestones(rows: list[MilestoneRow], reason: str, actor: Any) -> Command:
    """The SetMilestones of the form: a cleared row is removed, a new row takes the
    first free ``m<n>`` (never an id the form still names, so none is reused)."""
    taken = {r.milestone_id for r in rows if r.milestone_id}
    milestones = []
    number = 0
    for index, row in enumerate(rows, start=1):
        title, due = row.title.strip(), row.due.strip()
        if not title and not due:
            continue
        if not title or not due:
            zh, en = (translate("ms.both", lang).format(n=index) for lang in ("zh-CN", "en"))
            raise Refusal(422, "invalid_input", zh, en)
        mid = row.milestone_id
        while not mid:
            number += 1
            if f"m{number}" not in taken:
                mid = f"m{number}"
                taken.add(mid)
        milestones.append({"milestone_id": mid, "title": title, "due": due})
    if not reason.strip():
        zh, en = translate("ms.reason", "zh-CN"), translate("ms.reason", "en")
        raise Refusal(422, "invalid_input", zh, en)
    try:
        return SetMilestones.model_validate(
            {"actor": actor, "milestones": milestones, "reason": reason}
        )
    except ValidationError as exc:
        wrong = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise Refusal(
            422, "invalid_input", f"请检查填写的内容：{wrong}", f"check what you entered: {wrong}"
        ) from exc


@router.post("/cases/{case_id}/milestones")
async def case_milestones(request: Request, person: PersonPosting, case_id: CaseId) -> Response:
    """调整阶段节点 of a long-term case (``SetMilestones``), with a reason; a refusal
    comes back on the form with what was typed."""
    form = await request.form()
    rows = _milestone_rows(form)
    reason = form.get("reason")
    reason = reason if isinstance(reason, str) else ""
    typed = {"milestones": {"reason": reason}}
    if "add_row" in form:
        rows.append(MilestoneRow("", "", ""))
        return await _case_page(request, person, case_id, typed=typed, milestone_rows=rows)
    language = request.state.console_language
    key = form.get("form_key")
    try:
        command = _set_milestones(rows, reason, person.caller.actor)
        await run_command(
            console_services(request),
            person.caller,
            case_id,
            command,
            idempotency_key=f"console-{key if isinstance(key, str) and key else uuid.uuid4().hex}",
            fingerprint={
                "action": "milestones",
                "rows": [[r.milestone_id, r.title, r.due] for r in rows],
                "reason": reason,
            },
        )
    except Refusal as refusal:
        if refusal.status == 404:
            raise
        return await _case_page(
            request,
            person,
            case_id,
            errors={"milestones": milestone_message(refusal.message(language), language)},
            typed=typed,
            status=refusal.status,
            milestone_rows=rows,
        )
    return RedirectResponse(f"{PATH}/cases/{case_id}?done=milestones", status_code=303)
