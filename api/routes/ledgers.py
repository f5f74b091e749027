"""Ledgers in and out (台账, application.ledgers): import findings from a spreadsheet,
the import template, the rectification ledger as XLSX or CSV, the cadre archive as PDF
or XLSX, the unit board as XLSX, and a case's 催办单 / 督办通知书 as PDF."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from api.deps import AppServices, CurrentCaller, caller_with
from application.caller import Caller
from application.case_lists import CaseQuery
from application.evidence import too_large
from application.ledgers.documents import archive_pdf, archive_xlsx, board_xlsx, notice_pdf
from application.ledgers.exports import iter_file, ledger_csv, ledger_xlsx
from application.ledgers.imports import (
    IMPORT_MAX_BYTES,
    ImportPreview,
    ImportSummary,
    Possible,
    apply_import,
    preview_import,
)
from application.ledgers.template import template_xlsx
from application.models import ID_PATTERN
from domain.vocabulary import CaseKind, CaseStatus, Role, Source, TrafficLight
from store.projections.case_summary import CaseSort

__all__ = ["router"]

router = APIRouter(tags=["ledgers"])
Supervisor = Annotated[Caller, Depends(caller_with(Role.SUPERVISOR))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}


def _binary(media_type: str) -> dict[int | str, dict[str, object]]:
    return {
        200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}},
        404: {"description": "Not found, or not within your scope"},
    }


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > IMPORT_MAX_BYTES:
        raise too_large(IMPORT_MAX_BYTES)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > IMPORT_MAX_BYTES:
            raise too_large(IMPORT_MAX_BYTES)
        chunks.append(chunk)
    return b"".join(chunks)


@router.get(
    "/imports/template",
    summary="The import template (XLSX): Chinese headers, an example row, drop-downs",
    response_class=Response,
    responses=_binary(XLSX),
)
async def import_template(caller: CurrentCaller) -> Response:
    return Response(template_xlsx(), media_type=XLSX, headers=_attachment("问题导入模板.xlsx"))


@router.post(
    "/imports",
    response_model=ImportPreview | ImportSummary,
    summary="Import findings from a ledger (XLSX, XLS or CSV as the body)",
    description=(
        "`dry_run=true` (the default) checks every row and writes nothing: the answer"
        " lists each row's action (open, merge into an open case, skip) and every error by"
        " row and column. `dry_run=false` opens each row's case once (a file with any error"
        " is refused whole, 422 `ledger_has_errors`); the same file sent again adds nothing"
        " twice. Columns are matched by their Chinese names and aliases; see"
        " `GET /imports/template`."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in (XLSX, "text/csv", "application/octet-stream")
            },
        }
    },
    responses={
        403: {"description": "Only a supervisor imports findings"},
        413: {"description": "Larger than the limit, or too many rows"},
        415: {"description": "Not a spreadsheet"},
        422: {"description": "No header, required columns missing, or rows with errors"},
    },
)
async def post_import(
    request: Request,
    services: AppServices,
    caller: Supervisor,
    dry_run: bool = True,
    unit: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="The subtree rows may name")
    ] = None,
    possible: Annotated[
        Possible,
        Query(
            description="A row that may repeat an open case (the possible band): `ask` makes"
            " it an error of the row (fill 并入案件 or 另行立案 in the file), `new` opens it,"
            " `merge` merges it into the best candidate"
        ),
    ] = "ask",
) -> ImportPreview | ImportSummary:
    data = await _body(request)
    if dry_run:
        return await preview_import(services, caller, data, unit, possible)
    return await apply_import(services, caller, data, unit, possible=possible)


def ledger_query(
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    light: Annotated[list[TrafficLight] | None, Query()] = None,
    unit: Annotated[str | None, Query(pattern=ID_PATTERN, description="A subtree")] = None,
    source: Source | None = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    kind: CaseKind | None = None,
    overdue: bool | None = None,
    escalation_level: Annotated[int | None, Query(ge=0, le=4)] = None,
    deadline_from: date | None = None,
    deadline_to: date | None = None,
    cadre: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    sort: CaseSort = "deadline",
) -> CaseQuery:
    """The case list's filters (GET /cases), without paging."""
    filters: dict[str, object] = {
        "statuses": frozenset(status) if status else None,
        "lights": frozenset(light) if light else None,
        "source": source,
        "category": category,
        "kind": kind,
        "overdue": overdue,
        "escalation_level": escalation_level,
        "deadline_from": deadline_from,
        "deadline_to": deadline_to,
        "cadre_id": cadre,
    }
    return CaseQuery(unit=unit, filters=filters, sort=sort)


LedgerQuery = Annotated[CaseQuery, Depends(ledger_query)]


@router.get(
    "/ledger.xlsx",
    summary="The rectification ledger (整改台账) of the cases the list would show, as XLSX",
    response_class=StreamingResponse,
    responses=_binary(XLSX),
)
async def get_ledger_xlsx(
    services: AppServices, caller: CurrentCaller, query: LedgerQuery
) -> StreamingResponse:
    path = await ledger_xlsx(services, caller, query)
    return StreamingResponse(iter_file(path), media_type=XLSX, headers=_attachment("整改台账.xlsx"))


@router.get(
    "/ledger.csv",
    summary="The rectification ledger (整改台账) as CSV (UTF-8 with BOM), streamed",
    response_class=StreamingResponse,
    responses=_binary("text/csv"),
)
async def get_ledger_csv(
    services: AppServices, caller: CurrentCaller, query: LedgerQuery
) -> StreamingResponse:
    stream = ledger_csv(services, caller, query)
    first = await anext(stream)  # refusals (scope, role) before the answer starts

    async def body() -> object:
        yield first
        async for chunk in stream:
            yield chunk

    return StreamingResponse(
        body(),  # type: ignore[arg-type]
        media_type="text/csv; charset=utf-8",
        headers=_attachment("整改台账.csv"),
    )


@router.get(
    "/board.xlsx",
    summary="The unit board (亮灯看板) of a subtree as XLSX",
    response_class=Response,
    responses=_binary(XLSX),
)
async def get_board_xlsx(
    services: AppServices,
    caller: CurrentCaller,
    unit: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Response:
    data = await board_xlsx(services, caller, unit)
    return Response(data, media_type=XLSX, headers=_attachment("亮灯看板.xlsx"))


Year = Annotated[int | None, Query(ge=2000, le=2200, description="Default: this year")]
Quarter = Annotated[int | None, Query(ge=1, le=4)]


@router.get(
    "/cadres/{cadre_id}/archive.pdf",
    summary="A cadre's performance archive (政绩档案) as PDF",
    response_class=Response,
    responses=_binary("application/pdf"),
)
async def get_archive_pdf(
    services: AppServices,
    caller: CurrentCaller,
    year: Year = None,
    quarter: Quarter = None,
    cadre_id: str = Path(pattern=ID_PATTERN),
) -> Response:
    data = await archive_pdf(services, caller, cadre_id, year, quarter)
    return Response(
        data, media_type="application/pdf", headers=_attachment(f"政绩档案-{cadre_id}.pdf")
    )


@router.get(
    "/cadres/{cadre_id}/archive.xlsx",
    summary="A cadre's performance archive (政绩档案) as XLSX, with the events behind each figure",
    response_class=Response,
    responses=_binary(XLSX),
)
async def get_archive_xlsx(
    services: AppServices,
    caller: CurrentCaller,
    year: Year = None,
    quarter: Quarter = None,
    cadre_id: str = Path(pattern=ID_PATTERN),
) -> Response:
    data = await archive_xlsx(services, caller, cadre_id, year, quarter)
    return Response(data, media_type=XLSX, headers=_attachment(f"政绩档案-{cadre_id}.xlsx"))


@router.get(
    "/cases/{case_id}/notice.pdf",
    summary="The case's 催办单 (level 1) or 督办通知书 (levels 2–4) as PDF",
    response_class=Response,
    responses={
        **_binary("application/pdf"),
        409: {"description": "The case is not escalated"},
    },
)
async def get_notice_pdf(
    services: AppServices, caller: CurrentCaller, case_id: str = Path(pattern=ID_PATTERN)
) -> Response:
    data = await notice_pdf(services, caller, case_id)
    return Response(
        data, media_type="application/pdf", headers=_attachment(f"通知书-{case_id}.pdf")
    )
