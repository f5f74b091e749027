"""What the console's administration page shows: the unit tree, cadres, accounts, and
the notification outbox's dead rows (admins only)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from application.access import ensure_role
from application.accounts import AccountOut, account_list
from application.caller import Caller
from application.directory import cadres_of
from application.models import CadreOut, UnitOut
from application.notifications import NotificationOut, notification_page
from application.services import Services
from domain.vocabulary import Role
from store.outbox import OutboxStatus

__all__ = ["AdminOverview", "admin_overview"]


@dataclass(frozen=True, slots=True)
class AdminOverview:
    units: list[tuple[UnitOut, int]]  # each with its depth in the tree
    cadres: list[CadreOut]
    accounts: list[AccountOut]
    dead_notifications: list[NotificationOut]


async def admin_overview(services: Services, caller: Caller) -> AdminOverview:
    ensure_role(caller.actor, Role.ADMIN)
    units = await asyncio.to_thread(services.directory.all_units)
    shown = [
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
    return AdminOverview(
        units=shown,
        cadres=await cadres_of(services, None),
        accounts=await account_list(services, caller),
        dead_notifications=await notification_page(
            services, caller, OutboxStatus.DEAD, None, 20, None
        ),
    )
