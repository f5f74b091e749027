"""The new notification paths under 0011's least-privilege roles (grants from 0015):
the worker writes unaddressed rows, the dispatcher gathers digests, the API addresses
an unaddressed row and retries a dead one re-reading its contact, never its secret."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from store.directory import Directory
from store.engine import make_engine
from store.outbox import Channel, ContactRole, NewNotification, Outbox, OutboxStatus, UnitContacts
from store.roles import GROUP_ROLES, ensure_process_logins, login_role

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engines(
    database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Engine]]:
    Directory(engine).add_units([("p", "省", None), ("u", "县局", "p")])
    prefix = f"zg_test_{uuid.uuid4().hex[:8]}"
    secrets_file = tmp_path_factory.mktemp("roles") / "db-roles.json"
    processes = tuple(GROUP_ROLES)
    urls = ensure_process_logins(database_url, secrets_file, processes=processes, prefix=prefix)
    made = {process: make_engine(url, pool_size=2) for process, url in urls.items()}
    try:
        yield made
    finally:
        for made_engine in made.values():
            made_engine.dispose()
        with engine.begin() as conn:
            for process in processes:
                conn.execute(text(f'DROP ROLE IF EXISTS "{login_role(process, prefix)}"'))


def _row(case: str, channel: Channel | None, recipient: str, **extra: object) -> NewNotification:
    payload: dict[str, object] = {"case_id": case}
    if channel is None:
        payload |= {"contact_unit": "u", "contact_role": "contact"}
    return NewNotification(
        notice_key=f"k-{case}",
        case_id=case,
        stream_id=f"case-{case}",
        kind="reminder",
        level=None,
        channel=channel,
        recipient=recipient,
        payload=payload,
        **extra,  # type: ignore[arg-type]
    )


def test_each_role_does_its_part_of_notifications_v2(
    engine: Engine, engines: dict[str, Engine]
) -> None:
    worker, dispatcher, api = engines["worker"], engines["dispatcher"], engines["api"]
    case = uuid.uuid4().hex[:12]
    assert Outbox(worker).enqueue([_row(case, None, "u/contact")]) == 1
    (unaddressed,) = Outbox(engine).rows(case_id=case)
    assert unaddressed.status is OutboxStatus.UNADDRESSED

    contact = UnitContacts(engine).add(
        "u", ContactRole.CONTACT, Channel.EMAIL, f"{case}@x.example", digest=True
    )
    assert Outbox(api).retry(unaddressed.id).status is OutboxStatus.CANCELLED
    (digest_row,) = [r for r in Outbox(engine).rows(case_id=case) if r.channel is Channel.EMAIL]
    assert digest_row.digest
    made = Outbox(dispatcher).gather_digests(date.today())
    assert len(made) == 1
    assert Outbox(engine).get(digest_row.id).status is OutboxStatus.DIGESTED  # type: ignore[union-attr]

    with engine.begin() as conn:
        conn.execute(
            text("UPDATE notification_outbox SET status = 'dead' WHERE id = :id"), {"id": made[0]}
        )
    UnitContacts(engine).update(contact.contact_id, address=f"{case}@fixed.example")
    assert Outbox(api).retry(made[0]).recipient == f"{case}@fixed.example"
    with api.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("SELECT secret FROM unit_contacts"))
