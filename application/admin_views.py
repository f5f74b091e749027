"""What the console's administration pages show: the unit tree, cadres, accounts, and
the notification outbox's dead rows; a unit's notification contacts (admins only)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from application.access import ensure_role
from application.accounts import AccountOut, account_list
from application.caller import Caller
from application.directory import cadres_of
from application.models import CadreOut, UnitOut
from application.notifications import (
    ContactOut,
    NotificationOut,
    notification_page,
    unit_contacts,
)
from application.services import Services
from domain.vocabulary import Role
from store.outbox import OutboxStatus

__all__ = ["AdminOverview", "ContactsView", "admin_overview", "contacts_view"]


@dataclass(frozen=True, slots=True)
class AdminOverview:
    units: list[tuple[UnitOut, int]]  # each with its depth in the tree
    cadres: list[CadreOut]
    accounts: list[AccountOut]
    dead_notifications: list[NotificationOut]


@dataclass(frozen=True, slots=True)
class ContactsView:
    units: list[tuple[UnitOut, int]]  # each with its depth in the tree
    unit: UnitOut | None  # the unit shown; None: every unit's contacts
    contacts: list[ContactOut]  # with the notices each still has queued


async def _unit_tree(services: Services) -> list[tuple[UnitOut, int]]:
    units = await asyncio.to_thread(services.directory.all_units)
    return [
        (
            UnitOut(
                unit_id=u.unit_id,
                name=u.name,
                parent_id=u.parent_id,
                path=u.path,
                unit_class=u.unit_class,
            ),
            max(u.path.count("/") - 2, 0),
        )
        for u in units
    ]


async def admin_overview(services: Services, caller: Caller) -> AdminOverview:
    ensure_role(caller.actor, Role.ADMIN)
    return AdminOverview(
        units=await _unit_tree(services),
        cadres=await cadres_of(services, None),
        accounts=await account_list(services, caller),
        dead_notifications=await notification_page(
            services, caller, OutboxStatus.DEAD, None, 20, None
        ),
    )


async def contacts_view(services: Services, caller: Caller, unit_id: str | None) -> ContactsView:
    """A unit's contacts (an unknown unit: none shown, every unit's listed)."""
    ensure_role(caller.actor, Role.ADMIN)
    units = await _unit_tree(services)
    unit = next((u for u, _ in units if u.unit_id == unit_id), None)
    found = await unit_contacts(services, caller, None if unit is None else unit.unit_id)
    return ContactsView(units=units, unit=unit, contacts=found)
