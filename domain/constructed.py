"""Models built from values the domain itself computed, without validating them again.

What ``Model.model_construct`` leaves behind (the values as given, the fields set,
no extra or private values), without pydantic's generic construction: a fold or a
build makes one per event, hundreds of thousands in a rebuild. Only for values that
came out of validated models (an event read from the store, a state, the fold's sums).
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

__all__ = ["constructed"]

Model = TypeVar("Model", bound=BaseModel)
_set = object.__setattr__


def constructed(cls: type[Model], values: dict[str, object], fields_set: set[str]) -> Model:
    """A ``cls`` holding ``values`` (every field, in the model's order) as given.
    ``fields_set`` is kept, not copied (a set, as pydantic's ``model_copy`` updates its
    copy of it)."""
    new = cls.__new__(cls)
    _set(new, "__dict__", values)
    _set(new, "__pydantic_fields_set__", fields_set)
    _set(new, "__pydantic_extra__", None)
    _set(new, "__pydantic_private__", None)
    return new
