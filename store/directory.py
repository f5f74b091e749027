"""Units (a tree) and cadres: the reference data cases point at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, text
from sqlalchemy.exc import IntegrityError

from store.errors import StoreError

__all__ = ["Cadre", "CadreMatch", "Directory", "DirectoryError", "Unit"]


class DirectoryError(StoreError):
    """``code``: unit_exists, unit_not_found, parent_not_found, cadre_exists."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str
    name: str
    parent_id: str | None
    path: str
    unit_class: str | None = None  # 分类考核: chooses the policy file's class section


@dataclass(frozen=True, slots=True)
class Cadre:
    cadre_id: str
    name: str
    unit_id: str
    post: str


@dataclass(frozen=True, slots=True)
class CadreMatch:
    """A cadre found by name, with their unit's name (a choice lists both)."""

    cadre: Cadre
    unit_name: str


def _name_key(column: str) -> str:
    """A name as a search matches it, in SQL: NFKC (full-width letters, digits and
    blanks to half-width), no blanks, lower case -- the key the ledger import matches
    names by (``application.ledgers.imports._name_key``), applied to the query too."""
    return f"lower(regexp_replace(normalize({column}, NFKC), '\\s', '', 'g'))"


def _matching(column: str) -> str:
    """Where the column's name contains the query ``:q`` (any name for an empty one)."""
    return f"position({_name_key(':q')} in {_name_key(column)}) > 0"


def _prefix_first(column: str) -> str:
    """An order key: names that begin with ``:q`` before those that only contain it."""
    return f"position({_name_key(':q')} in {_name_key(column)}) <> 1"


def _in_subtree(root_id: str | None, params: dict[str, object]) -> str:
    """The join that keeps ``u`` to ``root_id``'s subtree (nothing for None), its
    parameter added to ``params``."""
    if root_id is None:
        return ""
    params["root"] = root_id
    return "JOIN units root ON root.unit_id = :root AND starts_with(u.path, root.path) "


def _unit_of(row: Row[Any]) -> Unit:
    return Unit(row.unit_id, row.name, row.parent_id, row.path, row.unit_class)


BULK_UNITS = 100  # added at once: the table's statistics are taken at once too


class Directory:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_units(
        self,
        units: Sequence[tuple[str, str, str | None] | tuple[str, str, str | None, str | None]],
    ) -> list[Unit]:
        """(unit id, name, parent id[, unit class]) in any order that puts parents first;
        all or nothing."""
        added: list[Unit] = []
        with self._engine.begin() as conn:
            for row in units:
                unit_id, name, parent_id = row[0], row[1], row[2]
                unit_class = row[3] if len(row) > 3 else None
                added.append(self._add_unit(conn, unit_id, name, parent_id, unit_class))
        if len(added) >= BULK_UNITS:
            # Planner statistics now, not when autovacuum comes by: the case list's
            # subtree filter is planned from them (without, a page of a large log took
            # hundreds of ms). A role that does not own the table is skipped with a notice.
            with self._engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE units")
                conn.commit()
        return added

    def _add_unit(
        self,
        conn: Connection,
        unit_id: str,
        name: str,
        parent_id: str | None,
        unit_class: str | None = None,
    ) -> Unit:
        parent_path = "/"
        if parent_id is not None:
            found = conn.execute(
                text("SELECT path FROM units WHERE unit_id = :id"), {"id": parent_id}
            ).scalar()
            if found is None:
                raise DirectoryError("parent_not_found", f"parent unit {parent_id} not found")
            parent_path = str(found)
        path = f"{parent_path}{unit_id}/"
        try:
            with conn.begin_nested():
                conn.execute(
                    text(
                        "INSERT INTO units (unit_id, name, parent_id, path, unit_class) "
                        "VALUES (:id, :name, :parent, :path, :class)"
                    ),
                    {
                        "id": unit_id,
                        "name": name,
                        "parent": parent_id,
                        "path": path,
                        "class": unit_class,
                    },
                )
        except IntegrityError as exc:
            raise DirectoryError("unit_exists", f"unit {unit_id} already exists") from exc
        return Unit(unit_id, name, parent_id, path, unit_class)

    def add_cadres(self, cadres: Sequence[tuple[str, str, str, str]]) -> list[Cadre]:
        """(cadre id, name, unit id, post); all or nothing."""
        added = []
        with self._engine.begin() as conn:
            for cadre_id, name, unit_id, post in cadres:
                if self._unit(conn, unit_id) is None:
                    raise DirectoryError("unit_not_found", f"unit {unit_id} not found")
                try:
                    with conn.begin_nested():
                        conn.execute(
                            text(
                                "INSERT INTO cadres (cadre_id, name, unit_id, post) "
                                "VALUES (:id, :name, :unit, :post)"
                            ),
                            {"id": cadre_id, "name": name, "unit": unit_id, "post": post},
                        )
                except IntegrityError as exc:
                    raise DirectoryError(
                        "cadre_exists", f"cadre {cadre_id} already exists"
                    ) from exc
                added.append(Cadre(cadre_id, name, unit_id, post))
        return added

    def unit(self, unit_id: str) -> Unit | None:
        with self._engine.connect() as conn:
            return self._unit(conn, unit_id)

    @staticmethod
    def _unit(conn: Connection, unit_id: str) -> Unit | None:
        row = conn.execute(
            text(
                "SELECT unit_id, name, parent_id, path, unit_class FROM units WHERE unit_id = :id"
            ),
            {"id": unit_id},
        ).first()
        return None if row is None else _unit_of(row)

    def subtree(self, unit_id: str) -> list[Unit]:
        """The unit and every unit below it, parents before children."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT u.unit_id, u.name, u.parent_id, u.path, u.unit_class FROM units u "
                    "JOIN units root ON root.unit_id = :id "
                    "WHERE starts_with(u.path, root.path) ORDER BY u.path"
                ),
                {"id": unit_id},
            )
            return [_unit_of(r) for r in rows]

    def all_units(self) -> list[Unit]:
        """Every unit, in tree order (parents before children)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                text("SELECT unit_id, name, parent_id, path, unit_class FROM units ORDER BY path")
            )
            return [_unit_of(r) for r in rows]

    def is_within(self, unit_id: str, ancestor_id: str) -> bool:
        with self._engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT 1 FROM units u JOIN units a ON a.unit_id = :ancestor "
                    "WHERE u.unit_id = :unit AND starts_with(u.path, a.path)"
                ),
                {"unit": unit_id, "ancestor": ancestor_id},
            ).first()
        return row is not None

    def cadre(self, cadre_id: str) -> Cadre | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                text("SELECT cadre_id, name, unit_id, post FROM cadres WHERE cadre_id = :id"),
                {"id": cadre_id},
            ).first()
        return None if row is None else Cadre(row.cadre_id, row.name, row.unit_id, row.post)

    def cadres(self, unit_id: str | None = None) -> list[Cadre]:
        query = "SELECT cadre_id, name, unit_id, post FROM cadres"
        params: dict[str, str] = {}
        if unit_id is not None:
            query += " WHERE unit_id = :unit"
            params["unit"] = unit_id
        with self._engine.connect() as conn:
            rows = conn.execute(text(query + " ORDER BY cadre_id"), params)
            return [Cadre(r.cadre_id, r.name, r.unit_id, r.post) for r in rows]

    def find_units(self, root_id: str | None, query: str, limit: int) -> list[Unit]:
        """The units of ``root_id``'s subtree (every unit for None) whose name contains
        ``query`` (case, width and blanks ignored); those that begin with it first, then
        in tree order; at most ``limit``."""
        params: dict[str, object] = {"q": query, "limit": limit}
        within = _in_subtree(root_id, params)
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT u.unit_id, u.name, u.parent_id, u.path, u.unit_class FROM units u "  # noqa: S608 - constant text, values bound
                    f"{within}WHERE {_matching('u.name')} "
                    f"ORDER BY {_prefix_first('u.name')}, u.path LIMIT :limit"
                ),
                params,
            )
            return [_unit_of(r) for r in rows]

    def find_cadres(
        self, root_id: str | None, query: str, first_unit: str | None, limit: int
    ) -> list[CadreMatch]:
        """The cadres of the units of ``root_id``'s subtree (every unit for None) whose
        name contains ``query`` (case, width and blanks ignored): ``first_unit``'s first,
        then those whose name begins with it, then by unit in tree order and by name; at
        most ``limit``."""
        params: dict[str, object] = {"q": query, "limit": limit, "first": first_unit or ""}
        within = _in_subtree(root_id, params)
        with self._engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.cadre_id, c.name, c.unit_id, c.post, u.name AS unit_name "  # noqa: S608 - constant text, values bound
                    f"FROM cadres c JOIN units u ON u.unit_id = c.unit_id {within}"
                    f"WHERE {_matching('c.name')} "
                    f"ORDER BY c.unit_id <> :first, {_prefix_first('c.name')}, u.path, c.name, "
                    "c.cadre_id LIMIT :limit"
                ),
                params,
            )
            return [
                CadreMatch(Cadre(r.cadre_id, r.name, r.unit_id, r.post), r.unit_name) for r in rows
            ]
