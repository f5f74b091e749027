"""GET /board: the unit board (亮灯看板) of a subtree (application.case_lists.board).

Each unit of the subtree that has cases, in tree order, with its name: cases by
light, red cases by escalation level (the overdue ageing buckets), closures and
the on-time rate; and the totals over those units, read in the same statement.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import AppServices, CurrentCaller
from application.case_lists import BoardOut, board_json
from application.models import ID_PATTERN

__all__ = ["router"]

router = APIRouter(tags=["cases"])


@router.get(
    "/board",
    response_model=BoardOut,
    summary="The unit board (亮灯看板): cases by light and overdue level per unit, in scope",
    name="board",
    responses={403: {"description": "Admins see no cases"}},
)
async def get_board(
    services: AppServices,
    caller: CurrentCaller,
    unit: Annotated[str | None, Query(pattern=ID_PATTERN, description="A subtree")] = None,
) -> Response:
    # The JSON of a BoardOut, made without a model per unit (a province is thousands).
    content = await board_json(services, caller, unit)
    return Response(content, media_type="application/json")
