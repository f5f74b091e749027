"""Typed metadata of an appended event: who did it, in what role, on which
request, caused by what, as part of which flow.

``NewEvent.metadata`` stays a plain dict (it is hashed as it is); build it with
``EventMetadata(...).as_dict()`` so the keys are the same everywhere. Unset
fields are left out rather than stored as null.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["EventMetadata"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EventMetadata:
    actor: str | None = None  # user id (or "system:<component>")
    role: str | None = None  # role the actor acted in
    unit_id: str | None = None  # organisational unit acted for
    request_id: str | None = None  # API request that led to the append
    causation_id: str | None = None  # id of the command or event that caused this one
    correlation_id: str | None = None  # id shared by everything in one flow (the case)
    workflow_id: str | None = None  # Temporal workflow that appended it

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EventMetadata:
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        return cls(**{name: None if v is None else str(v) for name, v in known.items()})
