"""The contact use cases without a database: bad choices are refused before the store."""

from __future__ import annotations

import pytest

from application.errors import Refusal
from application.notifications import add_contact
from store.outbox import UnitContacts


@pytest.mark.parametrize(
    ("role", "channel", "address", "code"),
    [
        ("boss", "email", "a@b.cn", "contact_role_unknown"),
        ("leader", "fax", "a@b.cn", "channel_unknown"),
        ("leader", "email", "x" * 2001, "invalid_address"),
    ],
)
def test_bad_choices_are_refused_before_the_store(
    role: str, channel: str, address: str, code: str
) -> None:
    untouched = UnitContacts(engine=None)  # type: ignore[arg-type]  # never reached
    with pytest.raises(Refusal) as refused:
        add_contact(untouched, unit_id="u", role=role, channel=channel, address=address)
    assert refused.value.code == code
    assert refused.value.status == 422
