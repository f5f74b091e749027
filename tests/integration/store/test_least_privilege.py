"""Least privilege (migration 0011, ``store.roles``): each process's login is refused
what would let it rewrite the log or the schema, and can do what its code does.

Every refusal is checked twice: the login gets ``insufficient_privilege`` with
PostgreSQL's own message (not the append-only trigger's), and the owner runs the
very same statement successfully (rolled back, triggers off), so a refusal cannot
come from a statement that would fail anyway.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from store.directory import Directory
from store.engine import make_engine
from store.event_store import EventStore
from store.evidence import EvidenceFiles
from store.idempotency import IdempotencyKeys
from store.outbox import (
    Channel,
    ContactError,
    ContactRole,
    NewNotification,
    Outbox,
    OutboxStatus,
    UnitContacts,
)
from store.projections.case_summary import open_cases_of_unit
from store.projections.lag import projection_lag
from store.projections.rebuild import rebuild_all
from store.projections.registry import PROJECTIONS
from store.projections.runner import subscription_for
from store.roles import GROUP_ROLES, ensure_process_logins, login_role
from store.seals import seal_log
from store.tokens import Tokens
from store.verify import verify_log
from tests.integration.projections.helpers import scripted
from tests.integration.store.helpers import new_events, new_stream

pytestmark = pytest.mark.integration

KEY = b"k" * 32
EVERY_ROLE = tuple(GROUP_ROLES)  # worker, api, projector, dispatcher, reader, auditor

_INSERT_EVENT = (
    "INSERT INTO events (stream_id, version, event_id, type, schema_version, data, metadata, "
    "recorded_at, previous_hash, hash) VALUES ('case-forged', 1, gen_random_uuid(), 'Forged', 1, "
    "'{}', '{}', now(), '\\x00', '\\x00')"
)
_INSERT_SEAL = (
    "INSERT INTO seals (seq, sealed_at, up_to_tx_id, up_to_position, event_count, merkle_root, "
    "previous_signature, key_id, signature) VALUES (999, now(), '1', 1, 1, '\\x00', '\\x00', "
    "'forged', '\\x00')"
)

# (name, statement, what PostgreSQL says when the role lacks the right)
FORBIDDEN = [
    ("insert events", _INSERT_EVENT, "permission denied for table events"),
    ("update events", "UPDATE events SET type = 'Forged'", "permission denied for table events"),
    ("delete events", "DELETE FROM events", "permission denied for table events"),
    ("truncate events", "TRUNCATE events", "permission denied for table events"),
    (
        "insert streams",
        "INSERT INTO streams VALUES ('case-forged', 'case', 1, '\\x00')",
        "permission denied for table streams",
    ),
    (
        "update streams",
        "UPDATE streams SET head_hash = '\\x00'",
        "permission denied for table streams",
    ),
    ("delete streams", "DELETE FROM streams", "permission denied for table streams"),
    ("truncate streams", "TRUNCATE streams", "permission denied for table streams"),
    ("delete seals", "DELETE FROM seals", "permission denied for table seals"),
    ("truncate seals", "TRUNCATE seals", "permission denied for table seals"),
    (
        "disable the events trigger",
        "ALTER TABLE events DISABLE TRIGGER events_no_update_delete",
        "must be owner of table events",
    ),
    (
        "disable the seals trigger",
        "ALTER TABLE seals DISABLE TRIGGER seals_no_update_delete",
        "must be owner of table seals",
    ),
    (
        "replica mode",
        "SET session_replication_role = replica",
        'permission denied to set parameter "session_replication_role"',
    ),
    ("drop events", "DROP TABLE events", "must be owner of table events"),
    ("drop streams", "DROP TABLE streams", "must be owner of table streams"),
    ("create a table", "CREATE TABLE planted (i int)", "permission denied for schema"),
    (
        "replace a function",
        "CREATE OR REPLACE FUNCTION append_events(p_stream_id text, p_stream_type text, "
        "p_expected integer, p_events jsonb, p_notify boolean DEFAULT true, OUT status text, "
        "OUT version integer, OUT head_hash bytea) "
        "LANGUAGE sql AS $$ SELECT 'ok', 0, NULL::bytea $$",
        "",  # must be owner of function …, or permission denied for schema …
    ),
    (
        "make the append run as the caller",
        "ALTER FUNCTION append_events(text, text, integer, jsonb, boolean) SECURITY INVOKER",
        "must be owner of function append_events",
    ),
    (
        "grant oneself more",
        "GRANT INSERT ON events TO CURRENT_USER",
        "",  # a warning ("no privileges were granted") or an error; checked below
    ),
]
# Forbidden to every role but the auditor, which inserts seals (and holds UPDATE on
# them only for LOCK TABLE: the seals trigger refuses every update, see below).
NOT_FOR_THE_AUDITOR = [
    ("insert seals", _INSERT_SEAL, "permission denied for table seals"),
    ("update seals", "UPDATE seals SET key_id = 'forged'", "permission denied for table seals"),
]


@pytest.fixture(scope="module")
def owner(engine: Engine) -> Engine:
    """The owner's engine (the fixtures migrate as the server's superuser), with a
    sealed log so that row triggers have rows to fire on."""
    store = EventStore(engine)
    for _ in range(2):
        store.append(new_stream(), 0, new_events(2))
    seal_log(engine, KEY)
    return engine


@pytest.fixture(scope="module")
def urls(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A login per role, named for this module only (roles are server-wide)."""
    prefix = f"zg_test_{uuid.uuid4().hex[:8]}"
    secrets_file = tmp_path_factory.mktemp("roles") / "db-roles.json"
    made = ensure_process_logins(database_url, secrets_file, processes=EVERY_ROLE, prefix=prefix)
    try:
        yield made
    finally:
        admin = make_engine(database_url, pool_size=1)
        try:
            with admin.begin() as conn:
                for process in EVERY_ROLE:
                    conn.execute(text(f'DROP ROLE IF EXISTS "{login_role(process, prefix)}"'))
        finally:
            admin.dispose()


@pytest.fixture(scope="module")
def engines(urls: dict[str, str]) -> Iterator[dict[str, Engine]]:
    made = {process: make_engine(url, pool_size=2) for process, url in urls.items()}
    yield made
    for made_engine in made.values():
        made_engine.dispose()


def _run(url: str, statement: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=False) as conn:
        try:
            conn.execute(statement)
        finally:
            conn.rollback()


def _refused(url: str, statement: str, message: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
        _run(url, statement)
    assert message in str(caught.value)
    assert "append-only" not in str(caught.value)  # refused by the grants, not the trigger


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_each_process_logs_in_as_its_own_role_and_nothing_more(urls: dict[str, str]) -> None:
    for process, url in urls.items():
        with psycopg.connect(_libpq(url)) as conn:
            row = conn.execute(
                "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, "
                "pg_has_role(current_user, %s, 'USAGE') FROM pg_roles WHERE rolname = current_user",
                (GROUP_ROLES[process],),
            ).fetchone()
        assert row is not None
        assert row[0].endswith(f"_{process}_login")
        assert row[1:] == (False, False, False, False, True), process


@pytest.mark.parametrize("process", EVERY_ROLE)
@pytest.mark.parametrize(("name", "statement", "message"), FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_no_process_can_rewrite_the_log_or_the_schema(
    owner: Engine,
    database_url: str,
    urls: dict[str, str],
    process: str,
    name: str,
    statement: str,
    message: str,
) -> None:
    if name == "grant oneself more":
        with psycopg.connect(_libpq(urls[process])) as conn:
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            allowed = conn.execute("SELECT has_table_privilege('events', 'INSERT')").fetchone()
        assert allowed == (False,)
        return
    _refused(urls[process], statement, message)


@pytest.mark.parametrize("process", [p for p in EVERY_ROLE if p != "auditor"])
@pytest.mark.parametrize(
    ("name", "statement", "message"), NOT_FOR_THE_AUDITOR, ids=[f[0] for f in NOT_FOR_THE_AUDITOR]
)
def test_only_the_auditor_writes_seals(
    owner: Engine, urls: dict[str, str], process: str, name: str, statement: str, message: str
) -> None:
    _refused(urls[process], statement, message)


def test_the_auditor_cannot_change_a_seal_either(owner: Engine, urls: dict[str, str]) -> None:
    # UPDATE is granted (LOCK TABLE … EXCLUSIVE needs it); the trigger refuses it, and the
    # auditor may not switch the trigger off (FORBIDDEN above; DELETE is not granted).
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="seals is append-only"):
        _run(urls["auditor"], "UPDATE seals SET key_id = 'forged'")


@pytest.mark.parametrize(
    ("name", "statement", "message"),
    FORBIDDEN[:-1] + NOT_FOR_THE_AUDITOR,
    ids=[f[0] for f in FORBIDDEN[:-1] + NOT_FOR_THE_AUDITOR],
)
def test_the_owner_can_run_each_refused_statement(
    owner: Engine, database_url: str, name: str, statement: str, message: str
) -> None:
    """The control: each statement works for the owner (triggers off, rolled back)."""
    with psycopg.connect(_libpq(database_url), autocommit=False) as conn:
        try:
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(statement)
        finally:
            conn.rollback()


def test_only_the_worker_may_call_the_append_function(
    owner: Engine, engines: dict[str, Engine]
) -> None:
    for process, made in engines.items():
        store = EventStore(made)
        try:
            if process == "worker":
                assert store.append(new_stream(), 0, new_events(1)).last_version == 1
                continue
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append_events"):
                store.append(new_stream(), 0, new_events(1))
        finally:
            store.close()


def test_the_append_function_runs_as_its_owner_with_a_fixed_search_path(owner: Engine) -> None:
    with owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT prosecdef, proconfig, pg_get_userbyid(proowner), "
                "has_function_privilege('public', oid, 'EXECUTE') FROM pg_proc "
                "WHERE oid = 'append_events(text, text, integer, jsonb, boolean)'::regprocedure"
            )
        ).one()
        owner_name = conn.execute(text("SELECT current_user")).scalar_one()
    assert row[0] is True
    assert row[1] == [f"search_path={conn_schema(owner)}, pg_temp"]
    assert row[2] == owner_name
    assert row[3] is False


def conn_schema(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def test_the_worker_appends_and_reads_through_the_store(
    owner: Engine, engines: dict[str, Engine]
) -> None:
    store = EventStore(engines["worker"])
    try:
        stream = new_stream()
        batch = new_events(2)
        first = store.append(stream, 0, batch)
        again = store.append(stream, 0, batch)  # the repeat is recognised by reading events
        assert again.already_stored
        assert again.head_hash == first.head_hash
        store.append(stream, 2, new_events(1))
        assert [e.version for e in store.read_stream(stream)] == [1, 2, 3]
        assert store.stream_version(stream) == 3
        # What the owner sees: the chain the function wrote for the worker.
        assert verify_log(owner, KEY, stream_id=stream).ok
    finally:
        store.close()


def test_the_worker_writes_notifications_but_not_read_models(
    owner: Engine, engines: dict[str, Engine]
) -> None:
    worker = engines["worker"]
    Directory(owner).add_units([("lp-unit", "某单位", None)])
    UnitContacts(owner).add("lp-unit", ContactRole.CONTACT, Channel.EMAIL, "a@example.gov.cn")
    assert Directory(worker).unit("lp-unit") is not None
    assert [c.address for c in UnitContacts(worker).resolve("lp-unit", ContactRole.CONTACT)] == [
        "a@example.gov.cn"
    ]
    notice = NewNotification(
        notice_key=str(uuid.uuid4()),
        case_id="lp-1",
        stream_id="case-lp-1",
        kind="reminder",
        level=None,
        channel=Channel.EMAIL,
        recipient="a@example.gov.cn",
        contact_id=None,
        payload={"case_id": "lp-1"},
    )
    assert Outbox(worker).enqueue([notice]) == 1
    assert Outbox(worker).enqueue([notice]) == 0  # a retried activity adds nothing
    with worker.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("DELETE FROM case_summary"))
    with worker.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("SELECT token_hash FROM api_tokens"))


def test_the_dispatcher_claims_and_finishes_outbox_rows(
    owner: Engine, engines: dict[str, Engine]
) -> None:
    dispatcher = engines["dispatcher"]
    outbox = Outbox(dispatcher)
    for n in range(2):
        Outbox(owner).enqueue(
            [
                NewNotification(
                    notice_key=f"lp-dispatch-{n}",
                    case_id=f"lp-d{n}",
                    stream_id=f"case-lp-d{n}",
                    kind="reminder",
                    level=None,
                    channel=Channel.EMAIL,
                    recipient="b@example.gov.cn",
                    contact_id=None,
                    payload={},
                )
            ]
        )
    claimed = outbox.claim(10, 60)
    mine = [r for r in claimed if r.case_id.startswith("lp-d")]
    assert len(mine) == 2
    assert outbox.mark_sent(mine[0])
    assert outbox.mark_failed(mine[1], "smtp down", delay=0, max_attempts=1) == "dead"
    assert [a[1] for a in Outbox(owner).attempts(mine[1].id)] == ["dead"]
    assert EventStore(dispatcher).read_stream("case-nothing") == []
    with dispatcher.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("SELECT 1 FROM idempotency_keys"))


def _project(projector: Engine, api: Engine, unit_id: str, expected: set[str]) -> set[str]:
    """Run every projection as the projector until the API sees ``expected`` open cases
    of the unit (another session's open transaction on the server can hold the log's
    readable bound back for a moment)."""
    deadline = time.monotonic() + 15
    while True:
        for projection in PROJECTIONS.values():
            subscription_for(projector, projection).run_once()
        found = {c.case_id for c in open_cases_of_unit(api, unit_id)}
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_the_projector_advances_every_projection(owner: Engine, engines: dict[str, Engine]) -> None:
    scripted(EventStore(owner), "lp-proj-1", "lp-unit-p", "lp-cadre-p", [])
    projector = engines["projector"]
    before = {lag.name: lag.checkpoint_position for lag in projection_lag(owner)}
    assert _project(projector, engines["api"], "lp-unit-p", {"lp-proj-1"}) == {"lp-proj-1"}
    after = {lag.name: lag.checkpoint_position for lag in projection_lag(engines["api"])}
    assert all(after[name] > before[name] for name in PROJECTIONS), (before, after)
    with projector.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM cadre_archive WHERE cadre_id = 'lp-cadre-p'")
            ).scalar_one()
            > 0
        )
    with projector.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("INSERT INTO notification_outbox (idempotency_key) VALUES ('x')"))


def test_after_a_rebuild_by_the_owner_the_processes_keep_their_grants(
    owner: Engine, engines: dict[str, Engine]
) -> None:
    """A rebuild swaps in new tables; ``LIKE`` copies no privileges, so the swap does."""
    rebuild_all(owner)
    scripted(EventStore(owner), "lp-proj-2", "lp-unit-p", "lp-cadre-p", [])
    expected = {"lp-proj-1", "lp-proj-2"}
    assert _project(engines["projector"], engines["api"], "lp-unit-p", expected) == expected
    with engines["reader"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM unit_board")).scalar_one() > 0
    with engines["worker"].connect() as conn, pytest.raises(ProgrammingError, match="permission"):
        conn.execute(text("SELECT 1 FROM case_summary"))


def test_the_api_claims_idempotency_keys_and_serves_reads(
    owner: Engine, engines: dict[str, Engine]
) -> None:
    api = engines["api"]
    keys = IdempotencyKeys(api)
    first = keys.claim("findings", "lp-key", "hash-1", "lp-resource")
    assert not first.replay
    keys.resolve("findings", "lp-key", "lp-resource-2")
    again = keys.claim("findings", "lp-key", "hash-1", "ignored")
    assert (again.replay, again.resource_id) == (True, "lp-resource-2")

    Directory(api).add_units([("lp-api-unit", "接口单位", None)])
    Directory(api).add_cadres([("lp-api-cadre", "某人", "lp-api-unit", "局长")])
    assert [u.unit_id for u in Directory(api).subtree("lp-api-unit")] == ["lp-api-unit"]

    evidence = EvidenceFiles(api)
    stored = evidence.put("lp-case", "a.pdf", "application/pdf", b"%PDF-1.4", "user-1")
    got = evidence.get("lp-case", stored.content_hash)
    assert got is not None
    assert got.content == b"%PDF-1.4"

    issued = Tokens(owner).create(role="admin", unit_id=None, name="lp")  # `zhenggai token`
    record = Tokens(api).authenticate(issued.secret)
    assert record is not None
    assert record.token_id == issued.record.token_id

    stream = new_stream()
    EventStore(engines["worker"]).append(stream, 0, new_events(2))
    assert len(EventStore(api).read_stream(stream)) == 2
    assert verify_log(api, KEY, stream_id=stream).ok  # the history endpoint's check
    assert {lag.name for lag in projection_lag(api)} == set(PROJECTIONS)

    dead = Outbox(owner)
    dead.enqueue(
        [
            NewNotification(
                notice_key="lp-api-retry",
                case_id="lp-r",
                stream_id="case-lp-r",
                kind="reminder",
                level=None,
                channel=Channel.EMAIL,
                recipient="c@example.gov.cn",
                contact_id=None,
                payload={},
            )
        ]
    )
    with owner.begin() as conn:
        conn.execute(text("UPDATE notification_outbox SET status = 'dead' WHERE case_id = 'lp-r'"))
    (row,) = dead.rows(case_id="lp-r")
    assert Outbox(api).retry(row.id).status == OutboxStatus.PENDING
    with api.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
        conn.execute(text("UPDATE api_tokens SET revoked_at = NULL"))


def test_the_api_manages_contacts_without_reading_a_signing_key(
    owner: Engine, engines: dict[str, Engine]
) -> None:
    """The console's contacts page runs in the API process (migration 0018)."""
    api = UnitContacts(engines["api"])
    Directory(owner).add_units([("lp-contacts", "联系人单位", None)])
    hook = "https://hooks.example.gov.cn/lp"
    added = api.add("lp-contacts", ContactRole.CONTACT, Channel.WEBHOOK, hook, secret="k1")
    assert (added.signed, added.address) == (True, hook)
    moved = api.update(added.contact_id, address=hook + "/2")  # keeps the key unread
    assert (moved.signed, moved.address) == (True, hook + "/2")
    with owner.connect() as conn:
        kept = conn.execute(
            text("SELECT secret FROM unit_contacts WHERE contact_id = :id"),
            {"id": added.contact_id},
        ).scalar_one()
    assert kept == "k1"
    assert api.update(added.contact_id, secret="k2").signed
    with pytest.raises(ContactError, match="secret"):  # a webhook must sign with something
        api.update(added.contact_id, clear_secret=True)
    mail = api.add("lp-contacts", ContactRole.LEADER, Channel.EMAIL, "lead@example.gov.cn")
    assert not mail.signed
    assert [c.contact_id for c in api.contacts("lp-contacts")] == [
        added.contact_id,
        mail.contact_id,
    ]
    assert api.remove(mail.contact_id)
    assert api.get(mail.contact_id) is None
    with engines["api"].connect() as conn, pytest.raises(ProgrammingError, match="permission"):
        conn.execute(text("SELECT secret FROM unit_contacts"))


def test_the_reader_verifies_and_the_auditor_seals(
    owner: Engine, engines: dict[str, Engine]
) -> None:
    EventStore(owner).append(new_stream(), 0, new_events(1))
    outcome = seal_log(engines["auditor"], KEY)
    assert outcome.created
    assert verify_log(engines["reader"], KEY).ok
    with engines["reader"].connect() as conn, pytest.raises(ProgrammingError, match="permission"):
        conn.execute(text("SELECT secret FROM unit_contacts"))


def test_the_logins_file_is_private_and_reused(
    database_url: str, urls: dict[str, str], tmp_path: Path
) -> None:
    secrets_file = tmp_path / "db-roles.json"
    prefix = f"zg_test_{uuid.uuid4().hex[:8]}"
    try:
        first = ensure_process_logins(database_url, secrets_file, prefix=prefix)
        assert secrets_file.stat().st_mode & 0o777 == 0o600
        second = ensure_process_logins(database_url, secrets_file, prefix=prefix)
        assert first == second  # a restart finds the same logins and passwords
        assert set(first) == {"worker", "api", "projector", "dispatcher"}
        assert len({make_url(u).password for u in first.values()}) == 4
        for process, url in first.items():
            assert make_url(url).username == login_role(process, prefix)
            assert make_url(url).database == make_url(database_url).database
    finally:
        admin = make_engine(database_url, pool_size=1)
        try:
            with admin.begin() as conn:
                for process in ("worker", "api", "projector", "dispatcher"):
                    conn.execute(text(f'DROP ROLE IF EXISTS "{login_role(process, prefix)}"'))
        finally:
            admin.dispose()
