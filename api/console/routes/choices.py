"""The long lists of the case page's forms: 指定责任人 and 移交责任单位 (the person's
units and cadres) and 合并案件 (the unit's other open cases).

A list of at most ``LONG`` choices is a plain select. A longer one is never read
whole (the application asks for ``LONG + 1``): its form shows a search box that asks
``GET /console/cases/{id}/choices/{kind}?q=`` as the person types (htmx, 300 ms) and
swaps in a select of the first ``CHOICES_SHOWN`` matches. Without JavaScript the box
and its 搜索 button submit a small GET form of their own: the case page again, with
``form``, ``find`` and ``q`` in its address, that form open and its list narrowed. The
chosen value is the id either way, so the action's POST and its checks are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.console.forms import FORMS
from api.console.render import page
from api.console.sessions import Person, console_services
from application.access import visible_case
from application.case_merge import MergeChoice, merge_choices
from application.case_sheet import CaseSheet
from application.directory import (
    CHOICES_SHOWN,
    CadreChoice,
    cadre_choices,
    search_text,
    unit_choices,
)
from application.errors import Refusal
from application.models import ID_PATTERN, UnitOut

__all__ = ["LONG", "Choices", "form_choices", "router"]

router = APIRouter()
CaseId = Annotated[str, Path(pattern=ID_PATTERN)]
LONG = 30  # choices a select lists whole; with more, a search box narrows them
KINDS = {"unit": "units", "cadre": "cadres", "open_case": "open_cases"}  # field kind -> list
# Each list's field in the first form that has one (when a search names no form).
_FIELD_OF = {
    "units": ("reassign", "unit_id"),
    "cadres": ("assign", "cadre_id"),
    "open_cases": ("merge-into", "into_case_id"),
}


@dataclass(frozen=True, slots=True)
class Choices:
    """What a form offers by name instead of an id to type: the person's units, their
    cadres (the case's unit's first), the unit's other open cases (similar ones first).
    A list longer than ``LONG`` is not listed whole: ``searching`` names it, its form
    shows a search box, and the list holds the first ``shown`` matches of ``query``
    (the search a reload without JavaScript made, for the form and list ``found``)."""

    units: list[tuple[str, str]] = field(default_factory=list)
    cadres: list[tuple[str, str]] = field(default_factory=list)
    open_cases: list[MergeChoice] = field(default_factory=list)
    searching: frozenset[str] = frozenset()
    found: tuple[str, str] = ("", "")  # (form, list) of the search in the page's address
    query: str = ""
    shown: int = CHOICES_SHOWN


def _unit_items(units: list[UnitOut]) -> list[tuple[str, str]]:
    return [(u.unit_id, u.name) for u in units]


def _cadre_items(cadres: list[CadreChoice]) -> list[tuple[str, str]]:
    return [(c.cadre_id, f"{c.name}（{c.unit_name} · {c.post}）") for c in cadres]


async def form_choices(request: Request, person: Any, sheet: CaseSheet) -> Choices:
    """Each list the case's forms need, asked for one more than ``LONG`` (so a long list
    is known without reading it all), narrowed by the search in the address if any."""
    services = console_services(request)
    caller = person.caller
    params = request.query_params
    found = (params.get("form", ""), params.get("find", ""))
    query = search_text(params.get("q", "")) if found[1] in KINDS.values() else ""
    names = sheet.action_names
    lists: dict[str, list[Any]] = {"units": [], "cadres": [], "open_cases": []}
    searching: set[str] = set()

    def keep(kind: str, items: list[Any]) -> None:
        long = len(items) > LONG or (found[1] == kind and bool(query))
        lists[kind] = items[:CHOICES_SHOWN] if long else items
        if long:
            searching.add(kind)

    def asked(kind: str) -> str:
        return query if found[1] == kind else ""

    if "reassign" in names:
        units = await unit_choices(services, caller, asked("units"), limit=LONG + 1)
        keep("units", _unit_items(units))
    if names & {"assign", "reassign"}:
        own = sheet.case.state.unit_id
        cadres = await cadre_choices(
            services, caller, asked("cadres"), first_unit=own, limit=LONG + 1
        )
        keep("cadres", _cadre_items(cadres))
    if "merge-into" in names:
        case_id = sheet.case.case_id
        cases = await merge_choices(services, caller, case_id, asked("open_cases"), limit=LONG + 1)
        keep("open_cases", cases)
    return Choices(
        units=lists["units"],
        cadres=lists["cadres"],
        open_cases=lists["open_cases"],
        searching=frozenset(searching),
        found=found,
        query=query,
    )


@router.get("/cases/{case_id}/choices/{kind}")
async def case_choices(request: Request, person: Person, case_id: CaseId, kind: str) -> Response:
    """The select of a form's long list narrowed to the first matches of ``q``, for its
    search box (htmx, as the person types): ``kind`` is units, cadres or open_cases,
    ``form`` the action whose field it is. Who may not choose gets 403 (404 for a case
    they do not see)."""
    if kind not in _FIELD_OF:
        raise Refusal(404, "not_found", "没有这个选项列表", "no such list of choices")
    params = request.query_params
    action = params.get("form", "")
    fields = [f.name for f in FORMS.get(action, ((), False, ()))[0] if KINDS.get(f.kind) == kind]
    if not fields:
        action, fields = _FIELD_OF[kind][0], [_FIELD_OF[kind][1]]
    query = params.get("q", "")
    services = console_services(request)
    caller = person.caller
    case = await visible_case(services.store, services.directory, caller.actor, case_id)
    state = case.state
    items: list[Any]
    if kind == "units":
        items = _unit_items(await unit_choices(services, caller, query))
        selected = state.unit_id
    elif kind == "cadres":
        found = await cadre_choices(services, caller, query, first_unit=state.unit_id)
        items, selected = _cadre_items(found), state.cadre_id
    else:
        found_cases = await merge_choices(services, caller, case_id, query, limit=CHOICES_SHOWN)
        items, selected = list(found_cases), ""
    return page(
        request,
        "partials/choice_select.html",
        {
            "fid": f"{action}-{fields[0]}",
            "fname": fields[0],
            "kind": kind,
            "items": items[:CHOICES_SHOWN],
            "selected": selected,
            "searching": True,
        },
    )
