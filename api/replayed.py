"""The kept first answer of an Idempotency-Key, given back to a repeat."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from api.problems import Problem
from store.idempotency import StoredAnswer

__all__ = ["REFUSALS", "problem_answer", "replayed_answer"]

# Refusals by a rule are answers too: a repeat gets the same refusal, even if the
# case has since changed so that the command would now pass (send a new key for that).
REFUSALS = frozenset({403, 409, 422})
REPLAYED = {"Idempotent-Replayed": "true"}


def problem_answer(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code,
        "message_zh": problem.message_zh,
        "message_en": problem.message_en,
        "extra": problem.extra,
    }


def replayed_answer(answer: StoredAnswer) -> JSONResponse:
    """The first answer again; a kept refusal is raised as the same problem."""
    if answer.status >= 400:
        body = answer.body
        raise Problem(
            answer.status,
            body["code"],
            body["message_zh"],
            body["message_en"],
            headers=REPLAYED,
            **body.get("extra", {}),
        )
    return JSONResponse(answer.body, status_code=answer.status, headers=REPLAYED)
