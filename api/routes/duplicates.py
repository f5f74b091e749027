"""Ask before submitting (减负): the open cases of a unit a finding may repeat.

``GET /findings/similar?unit_id=&title=&description=&category=`` answers the
candidates with their scores and bands (``automatic``: ``POST /findings`` would merge
the finding into it; ``possible``: it would answer 409 ``possible_duplicate`` and
wait for ``merge_into`` or ``force_new``). The use case is
``application.duplicates.similar_open_cases``, shared with the console and importers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import AppServices, caller_with
from application.caller import Caller
from application.duplicates import similar_open_cases
from application.models import ID_PATTERN
from domain.duplicates import FindingText, SimilarCase
from domain.vocabulary import Role

__all__ = ["router"]

router = APIRouter(tags=["findings"])
Supervisor = Annotated[Caller, Depends(caller_with(Role.SUPERVISOR))]


class SimilarCases(BaseModel):
    candidates: list[SimilarCase]  # best first; score is a decimal string


@router.get(
    "/findings/similar",
    response_model=SimilarCases,
    summary="疑似重复 The open cases of the unit a finding may repeat, with scores and bands",
    name="similar_findings",
    responses={
        401: {"description": "No valid bearer token"},
        403: {"description": "Only a supervisor records findings"},
        422: {"description": "Unknown unit, or one outside the caller's subtree"},
    },
)
async def get_similar(
    services: AppServices,
    caller: Supervisor,
    unit_id: Annotated[str, Query(pattern=ID_PATTERN)],
    title: Annotated[str, Query(min_length=1, max_length=200)],
    description: Annotated[str, Query(max_length=10_000)] = "",
    category: Annotated[str | None, Query(max_length=64)] = None,
) -> SimilarCases:
    text = FindingText(title=title, description=description, category=category)
    found = await similar_open_cases(services, caller, unit_id, text)
    return SimilarCases(candidates=found)
