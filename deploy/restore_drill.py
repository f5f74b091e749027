"""Restore drill of the event store: dump it, restore the dump into a scratch database,
and verify the restored log (every hash, link, stream head and seal).

    DATABASE_URL=postgresql://zhenggai_owner:…@db/zhenggai ZHENGGAI_AUDIT_KEY_FILE=… \
        python deploy/restore_drill.py [--scratch-url postgresql://…/zg_drill] [--keep]

1. ``pg_dump --format=custom`` of DATABASE_URL (the owner's URL; the dump is what a
   nightly backup makes, see docs/operations.md);
2. a scratch database (default: ``zg_restore_drill_<time>`` on the same server; or
   ``--scratch-url``, which must not exist yet, on another server), restored with
   ``pg_restore --no-owner --no-acl`` (the roles of the source need not exist there);
3. ``zhenggai audit verify`` against it, with the audit keys of this environment;
4. the events and seals of the restored log counted against the source's, up to the
   dump's newest position (the source may have grown since);
5. the scratch database dropped unless ``--keep``.

Exit 0 when the restored log verifies and holds every event the dump should; 1 otherwise.
pg_dump and pg_restore come from ``--bin-dir``, else pgserver's (the embedded server's
binaries, installed with zhenggai), else PATH; they must be at least the server's version.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import make_url

PROJECT = Path(__file__).resolve().parent.parent


def _binary(name: str, bin_dir: Path | None) -> str:
    if bin_dir is not None:
        return str(bin_dir / name)
    try:
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"restore drill: {name} not found (pass --bin-dir)")
    return found


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _counts(url: str, position: int | None = None) -> tuple[int, int, int]:
    """(events up to ``position``, newest position, seals)."""
    with psycopg.connect(_libpq(url)) as conn:
        top = conn.execute("SELECT COALESCE(max(position), 0) FROM events").fetchone()
        assert top is not None
        upto = int(top[0]) if position is None else position
        row = conn.execute(
            "SELECT count(*), (SELECT count(*) FROM seals) FROM events WHERE position <= %s",
            (upto,),
        ).fetchone()
        assert row is not None
    return int(row[0]), upto, int(row[1])


def _run(args: list[str], **extra: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(a if "://" not in a else "<url>" for a in args), flush=True)
    return subprocess.run(args, text=True, check=False, **extra)  # type: ignore[call-overload,no-any-return]  # noqa: S603


def drill(source: str, scratch: str, bin_dir: Path | None, keep: bool) -> int:
    started = time.perf_counter()
    admin = make_url(_libpq(scratch)).set(database="postgres").render_as_string(hide_password=False)
    name = make_url(scratch).database
    assert name, "the scratch URL names no database"
    before = _counts(source)
    with tempfile.TemporaryDirectory(prefix="zg-restore-drill-") as folder:
        dump = Path(folder) / "eventstore.dump"
        done = _run(
            [_binary("pg_dump", bin_dir), "--format=custom", "--file", str(dump), _libpq(source)]
        )
        if done.returncode != 0:
            print("restore drill: pg_dump failed", file=sys.stderr)
            return 1
        print(f"dump: {dump.stat().st_size / 1e6:.1f} MB", flush=True)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            done = _run(
                [
                    _binary("pg_restore", bin_dir),
                    "--no-owner",
                    "--no-acl",
                    "--exit-on-error",
                    "--dbname",
                    _libpq(scratch),
                    str(dump),
                ]
            )
            if done.returncode != 0:
                print("restore drill: pg_restore failed", file=sys.stderr)
                return 1
            verified = _run(
                [sys.executable, "-m", "cli", "audit", "verify"],
                cwd=PROJECT,
                env={**os.environ, "DATABASE_URL": scratch, "ZHENGGAI_LANGUAGE": "en"},
            )
            events, _, seals = _counts(scratch, before[1])
            restored_ok = events >= before[0] and seals >= before[2]
            print(
                f"source: {before[0]:,} events up to position {before[1]:,}, {before[2]} seals; "
                f"restored: {events:,} events, {seals} seals; "
                f"audit verify exit {verified.returncode}; "
                f"{time.perf_counter() - started:.1f} s",
                flush=True,
            )
            return 0 if verified.returncode == 0 and restored_ok else 1
        finally:
            if not keep:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--scratch-url", help="a database that does not exist yet")
    parser.add_argument("--bin-dir", type=Path, help="where pg_dump and pg_restore are")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if not args.source_url:
        raise SystemExit("restore drill: set DATABASE_URL or --source-url (the owner's URL)")
    scratch = args.scratch_url or make_url(args.source_url).set(
        database=f"zg_restore_drill_{time.strftime('%Y%m%d_%H%M%S')}"
    ).render_as_string(hide_password=False)
    sys.exit(drill(args.source_url, scratch, args.bin_dir, args.keep))


if __name__ == "__main__":
    main()
