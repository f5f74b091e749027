"""A copy of every seal outside the database: an append-only witness file.

Someone with database rights can delete the newest seal (and with it the only
record that the events it covered were sealed). So each seal, once committed,
is also appended to a witness file (JSON Lines, one ``Seal.to_json()`` a
line) kept where the database's users cannot write: another disk, a mounted
log host, a WORM share. ``audit verify`` compares the database's seals with
the witness: a seal the witness has and the database lacks, or one that
differs, is reported.

One witness file belongs to one store. Appending catches up: a seal that was
committed but not witnessed (the sealer stopped in between) is appended with
the next one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["WitnessError", "append_seals", "read_witness"]


class WitnessError(ValueError):
    """The witness file cannot be read or written."""


def read_witness(path: Path) -> list[dict[str, Any]]:
    """The seals in the witness file, as written; none when it does not exist yet."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise WitnessError(f"{path}: {exc.strerror or exc}") from exc
    seals: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            seal = json.loads(line)
        except ValueError as exc:
            raise WitnessError(f"{path} line {number}: not JSON") from exc
        if not isinstance(seal, dict) or not isinstance(seal.get("seq"), int):
            raise WitnessError(f"{path} line {number}: not a seal")
        seals.append(seal)
    return seals


def append_seals(path: Path, seals: Sequence[dict[str, Any]]) -> int:
    """Append the seals newer than the witness's last one; how many were written.
    The file is only ever appended to, and synced before returning."""
    kept = read_witness(path)
    last = max((int(seal["seq"]) for seal in kept), default=0)
    new = [seal for seal in seals if int(seal["seq"]) > last]
    if not new:
        return 0
    text = "".join(json.dumps(seal, sort_keys=True) + "\n" for seal in new)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise WitnessError(f"{path}: {exc.strerror or exc}") from exc
    return len(new)
