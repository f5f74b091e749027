"""Upcasters: old stored shapes of an event become the current shape on read.

Stored events are never rewritten (they are hashed and append-only). When the
shape of an event type changes, its writers bump ``schema_version`` and
register one step per old version::

    upcasters = Upcasters()

    @upcasters.register("CaseOpened", from_version=1)
    def _case_opened_v1(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "unit_id": data.pop("unit")}   # v1 -> v2

Reading applies the steps in order (v1 -> v2 -> v3 ...). The hash of an
upcast event still covers the stored shape: ``audit verify`` reads without
upcasters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from store.records import RecordedEvent

__all__ = ["UpcastStep", "Upcasters"]

UpcastStep = Callable[[dict[str, Any]], dict[str, Any]]


class Upcasters:
    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], UpcastStep] = {}

    def add(self, event_type: str, from_version: int, step: UpcastStep) -> None:
        if from_version < 1:
            raise ValueError("from_version must be >= 1")
        key = (event_type, from_version)
        if key in self._steps:
            raise ValueError(f"an upcaster for {event_type} v{from_version} is already registered")
        self._steps[key] = step

    def register(self, event_type: str, *, from_version: int) -> Callable[[UpcastStep], UpcastStep]:
        def decorate(step: UpcastStep) -> UpcastStep:
            self.add(event_type, from_version, step)
            return step

        return decorate

    def __bool__(self) -> bool:
        return bool(self._steps)

    def upcast_data(
        self, event_type: str, schema_version: int, data: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """The current (schema_version, data) of a stored (schema_version, data)."""
        step = self._steps.get((event_type, schema_version))
        while step is not None:
            data = step(dict(data))
            schema_version += 1
            step = self._steps.get((event_type, schema_version))
        return schema_version, data

    def upcast(self, event: RecordedEvent) -> RecordedEvent:
        if (event.type, event.schema_version) not in self._steps:
            return event
        version, data = self.upcast_data(event.type, event.schema_version, event.data)
        return dataclasses.replace(event, schema_version=version, data=data)
