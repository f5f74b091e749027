"""Read one case: as the caller may see it, and its history checked against chain and seals."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer
from sqlalchemy.exc import SQLAlchemyError

from application.access import visible_case, with_clock
from application.caller import Caller
from application.models import CaseHistoryOut, CaseOut, ChainProblem, ChainVerification
from application.services import Services
from store.event_store import EventStore
from store.outbox import Outbox, OutboxStatus
from store.verify import VerifyReport, verify_log
from store.witness import WitnessError

__all__ = [
    "CaseHistoryWithSealsOut",
    "CaseWithNoticesOut",
    "NoticeCounts",
    "case_history",
    "read_case",
]


class SealedChainProblem(ChainProblem):
    stream_id: str | None = Field(default=None, description="the stream (case) it is in")
    seal_seq: int | None = Field(default=None, description="the seal it concerns")


class SealedChainVerification(ChainVerification):
    """The chain and, where seals named the stream, the events against them."""

    problems: list[SealedChainProblem]  # type: ignore[assignment]
    seals_covering: int = Field(
        default=0, description="seals whose records of this stream were checked against it"
    )
    sealed_version: int | None = Field(
        default=None, description="the last version of the stream a seal covers"
    )
    first_bad_version: int | None = Field(
        default=None, description="the first version a problem names, when not ok"
    )
    first_problem: str | None = Field(default=None, description="that problem's code")


class NoticeCounts(BaseModel):
    """The case's notifications by status (the outbox; see /notifications)."""

    pending: int = 0
    sent: int = 0
    dead: int = 0
    cancelled: int = 0
    unaddressed: int = Field(default=0, description="nobody to send to: nothing was sent")
    digested: int = Field(default=0, description="sent inside a daily digest")


class CaseWithNoticesOut(CaseOut):
    notices: NoticeCounts | None = Field(
        default=None,
        description="Notifications of the case by status; absent while it has none",
    )

    # Unannotated on purpose: pydantic then keeps the model's own schema for OpenAPI
    # (an annotated return type would replace it).
    @model_serializer(mode="wrap")
    def _without_empty_notices(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        shown: dict[str, Any] = handler(self)
        if shown.get("notices") is None:
            shown.pop("notices", None)  # a case without notices reads as it always did
        return shown


def _notice_counts(store: EventStore, case_id: str) -> NoticeCounts | None:
    try:
        counts = Outbox(store.engine).counts(case_id)
    except SQLAlchemyError:
        return None  # the case is still shown without its counts
    if not any(counts.values()):
        return None
    return NoticeCounts(**{status.value: counts[status] for status in OutboxStatus})


class CaseHistoryWithSealsOut(CaseHistoryOut):
    verification: SealedChainVerification


def _verification(report: VerifyReport, witness_error: str | None) -> SealedChainVerification:
    problems = [
        SealedChainProblem(
            code=p.code,
            version=p.version,
            expected=p.expected,
            found=p.found,
            stream_id=p.stream_id,
            seal_seq=p.seal_seq,
        )
        for p in report.problems
    ]
    if witness_error is not None:
        problems.append(
            SealedChainProblem(code="seal_witness", version=None, expected="", found=witness_error)
        )
    first = next((p for p in problems if p.version is not None), problems[0] if problems else None)
    return SealedChainVerification(
        ok=report.ok and witness_error is None,
        events_checked=report.events,
        seals_checked=report.seals,
        problems=problems,
        seals_covering=report.sealed_by,
        sealed_version=report.sealed_version,
        first_bad_version=None if first is None else first.version,
        first_problem=None if first is None else first.code,
    )


async def read_case(services: Services, caller: Caller, case_id: str) -> CaseWithNoticesOut:
    """The case folded from its events, its light now, its next timer, its notices."""
    case = await visible_case(services.store, services.directory, caller.actor, case_id)
    shown = await with_clock(case, services.temporal)
    notices = await asyncio.to_thread(_notice_counts, services.store, case_id)
    return CaseWithNoticesOut(**dict(shown), notices=notices)


async def case_history(services: Services, caller: Caller, case_id: str) -> CaseHistoryWithSealsOut:
    """Every event with actor, role, time, hash and previous hash; the stream's chain
    is recomputed from the stored fields on each call, and its events are checked
    against every seal that named the stream (a sealed version rewritten, even with the
    chain recomputed, or deleted is named in ``first_bad_version``). The seals'
    signatures are checked when the server holds the audit keys, and the seals against
    the witness file when ``ZHENGGAI_AUDIT_WITNESS_FILE`` is set."""
    store, settings = services.store, services.settings
    case = await visible_case(store, services.directory, caller.actor, case_id)
    keys = settings.audit_keys()
    witness = settings.audit_witness_file
    witness_error: str | None = None
    try:
        report = await asyncio.to_thread(
            verify_log, store.engine, keys, stream_id=case.workflow_id, witness=witness
        )
    except WitnessError as exc:
        witness_error = str(exc)
        report = await asyncio.to_thread(verify_log, store.engine, keys, stream_id=case.workflow_id)
    return CaseHistoryWithSealsOut(
        case_id=case_id,
        stream_id=case.workflow_id,
        events=case.events,
        verification=_verification(report, witness_error),
    )
