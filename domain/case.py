"""A case as a fold: ``decide`` turns a command into events, ``evolve`` applies one.

Both are pure, so the workflow (its update validators), the API and the
archive all run the same rules. This module is the stable entry point; the
state lives in ``domain.state``, the rules in ``domain.decide`` and its handlers.
"""

from __future__ import annotations

from domain.decide import decide
from domain.state import (
    CaseState,
    FindingRef,
    MilestoneState,
    PendingExtension,
    case_id_for,
    evolve,
    fold,
)

__all__ = [
    "CaseState",
    "FindingRef",
    "MilestoneState",
    "PendingExtension",
    "case_id_for",
    "decide",
    "evolve",
    "fold",
]
