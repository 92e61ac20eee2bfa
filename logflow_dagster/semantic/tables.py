"""Table sources of the semantic layer: read-only SELECTs over ``namespace.table`` names, and
those names resolved to snapshot-pinned ``iceberg_scan`` calls.

:func:`parse_select` is the guard of every SELECT written by someone else (a cube's ``sql:``,
``logflow sql``): exactly one query statement whose every table is a plain
``namespace.table`` (or a CTE of the statement); table functions (``read_csv``,
``read_parquet``, ``iceberg_scan``, ``glob``, ``query``...), file paths, three-part names and
every other statement (COPY, ATTACH, INSTALL, LOAD, PRAGMA, SET, CALL, EXPORT...) are refused.
:func:`pin_tables` then swaps each name for ``iceberg_scan('<metadata.json>')`` of the
snapshot resolved once for the whole query.

Example:
    >>> sorted(tables_in(parse_select("SELECT * FROM raw.a JOIN raw.b USING (id)", where="q")))
    ['raw.a', 'raw.b']
    >>> parse_select("SELECT * FROM read_csv('/etc/passwd')", where="q")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    logflow_dagster.core.errors.exceptions.UsageError: q: refused: table function read_csv(...) ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from ..core.errors import UsageError
from ..core.identifiers import identifier_problem


@dataclass(frozen=True)
class TableSnapshot:
    """One table as a query reads it: the metadata file of its current snapshot.

    Attributes:
        table: ``namespace.table``.
        metadata_location: The ``metadata.json`` URI (immutable: it pins the snapshot).
        snapshot_id: The current snapshot's id (None for a table without a snapshot).
    """

    table: str
    metadata_location: str
    snapshot_id: int | None

    def scan(self, alias: str | None = None) -> exp.Table:
        """``iceberg_scan('<metadata.json>') AS alias`` as an AST node."""
        call = exp.Anonymous(this="iceberg_scan",
                             expressions=[exp.Literal.string(self.metadata_location)])
        node = exp.Table(this=call)
        if alias:
            node.set("alias", exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        return node


#: Statements refused by their first word (also those sqlglot cannot parse, e.g. EXPORT).
_STATEMENTS = frozenset({"COPY", "ATTACH", "DETACH", "INSTALL", "LOAD", "PRAGMA", "SET",
                         "RESET", "CALL", "EXPORT", "IMPORT", "CREATE", "INSERT", "UPDATE",
                         "DELETE", "DROP", "ALTER", "USE", "CHECKPOINT", "VACUUM", "DESCRIBE",
                         "SUMMARIZE", "SHOW", "EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK",
                         "TRUNCATE", "MERGE", "UPDATE_EXTENSIONS"})


def quiet_parse(text: str) -> list[exp.Expression | None]:
    """``sqlglot.parse`` in DuckDB's dialect without sqlglot's fallback warnings on stderr."""
    import logging

    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return sqlglot.parse(text, read="duckdb")
    finally:
        logger.setLevel(level)


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name for cte in tree.find_all(exp.CTE)}


def _table_name(node: exp.Table, ctes: set[str], where: str) -> str | None:
    """``namespace.table`` of a table node, None for a CTE reference; refuses the rest."""
    if not isinstance(node.this, exp.Identifier):
        if isinstance(node.this, exp.Anonymous):
            name = str(node.this.this)
        elif isinstance(node.this, exp.Func):
            name = node.this.sql_name()
        else:
            name = type(node.this).__name__
        raise UsageError(f"{where}: refused: table function {name.lower()}(...) (only the "
                         "project's tables, as namespace.table)")
    if node.args.get("catalog") is not None:
        raise UsageError(f"{where}: refused: {node.sql('duckdb')} (tables are namespace.table)")
    if node.args.get("db") is None:
        if node.name in ctes:
            return None
        raise UsageError(f"{where}: refused: {node.sql('duckdb')!s} is not a project table "
                         "(write namespace.table)")
    name = f"{node.db}.{node.name}"
    problem = identifier_problem(name)
    if problem is not None:
        raise UsageError(f"{where}: refused: {name!r}: {problem}")
    return name


def parse_select(text: str, *, where: str) -> exp.Query:
    """Parses a read-only query over project tables.

    Args:
        text: The SQL.
        where: Prefix of error messages (``file:line: key``, ``sql``).

    Raises:
        UsageError: Not exactly one SELECT (with CTEs, subqueries, joins, set operations), a
            table function, a file path or anything that is not ``namespace.table``.
    """
    words = text.strip().split(None, 1)
    first = words[0].upper().rstrip(";") if words else ""
    if first in _STATEMENTS:
        raise UsageError(f"{where}: refused: {first} (only one read-only SELECT)")
    try:
        parsed = [p for p in quiet_parse(text) if p is not None]
    except sqlglot.errors.SqlglotError as err:
        raise UsageError(f"{where}: not valid SQL: {str(err).splitlines()[0]}") from None
    if len(parsed) != 1:
        raise UsageError(f"{where}: expected exactly one SELECT statement, got {len(parsed)}")
    tree = parsed[0]
    if not isinstance(tree, exp.Query):
        kind = tree.this if isinstance(tree, exp.Command) else type(tree).__name__
        raise UsageError(f"{where}: refused: {str(kind).upper()} (only one read-only SELECT)")
    for node in tree.walk():
        if isinstance(node, (exp.Command, exp.DDL, exp.DML, exp.Copy, exp.Set, exp.Pragma,
                             exp.Attach, exp.Detach, exp.Install)):
            raise UsageError(f"{where}: refused: {type(node).__name__.upper()} inside a query")
    ctes = _cte_names(tree)
    for node in tree.find_all(exp.Table):
        _table_name(node, ctes, where)
    return tree


def tables_in(tree: exp.Expression) -> set[str]:
    """The ``namespace.table`` names a checked query reads."""
    ctes = _cte_names(tree)
    out = set()
    for node in tree.find_all(exp.Table):
        name = _table_name(node, ctes, "sql")
        if name is not None:
            out.add(name)
    return out


def pin_tables(tree: exp.Query, snapshots: Mapping[str, TableSnapshot],
               guard: Callable[[str, str, exp.Expression], exp.Expression] | None = None
               ) -> exp.Query:
    """A copy of ``tree`` with every project table read through its pinned snapshot (the
    alias kept, else the table's own name as alias); ``guard(table, alias, scan)`` may put
    the scan behind an access policy (a filtering subquery).

    Raises:
        UsageError: A table that is not in ``snapshots``.
    """
    ctes = _cte_names(tree)

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Table):
            return node
        name = _table_name(node, ctes, "sql")
        if name is None:
            return node
        snap = snapshots.get(name)
        if snap is None:
            raise UsageError(f"no table {name!r} in the catalog")
        alias = node.alias or node.name
        scan = snap.scan(alias)
        return guard(name, alias, scan) if guard is not None else scan

    return tree.copy().transform(swap)  # type: ignore[return-value]


#: metadata.json location -> (current snapshot id, table properties). A metadata file never
#: changes once written, so what it says can be remembered for the life of the process.
_METADATA: dict[str, tuple[int | None, dict[str, str]]] = {}
_METADATA_CAP = 4096
_ABSENT = object()


def current_location(catalog: object, name: str) -> Any:
    """The current ``metadata_location`` of ``name`` read from a SQL catalog's own table (one
    indexed row: no metadata file is read), None when the table does not exist, or
    ``_ABSENT`` when the catalog is not a SQL catalog (or its bookkeeping table differs)."""
    engine = getattr(catalog, "engine", None)
    if engine is None or name.count(".") != 1:
        return _ABSENT
    from sqlalchemy.exc import SQLAlchemyError

    namespace, table = name.split(".")
    try:
        with engine.connect() as con:
            row = con.execute(_location_query(), {
                "catalog": getattr(catalog, "name", ""), "namespace": namespace,
                "table": table}).fetchone()
    except SQLAlchemyError:
        return _ABSENT
    return row[0] if row is not None else None


_LOCATION_QUERY: Any = None


def _location_query() -> Any:
    """The catalog-row lookup, built once with bound parameters (building a SQLAlchemy
    statement per lookup cost ~1 ms: most of a cache hit)."""
    global _LOCATION_QUERY
    if _LOCATION_QUERY is None:
        from pyiceberg.catalog.sql import IcebergTables
        from sqlalchemy import bindparam, or_, select

        _LOCATION_QUERY = select(IcebergTables.metadata_location).where(
            IcebergTables.catalog_name == bindparam("catalog"),
            IcebergTables.table_namespace == bindparam("namespace"),
            IcebergTables.table_name == bindparam("table"),
            or_(IcebergTables.iceberg_type == "TABLE", IcebergTables.iceberg_type.is_(None)))
    return _LOCATION_QUERY


def table_state(catalog: object, name: str) -> tuple[str, int | None, dict[str, str]] | None:
    """``(metadata_location, snapshot id, properties)`` of ``name``'s current metadata, None
    when there is no such table. Reads one catalog row; the metadata file only when it is one
    not seen before.
    """
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

    location = current_location(catalog, name)
    if location is None:
        return None
    if location is not _ABSENT and location in _METADATA:
        snapshot_id, properties = _METADATA[location]
        return location, snapshot_id, properties
    try:
        table = catalog.load_table(name)  # type: ignore[attr-defined]
    except (NoSuchTableError, NoSuchNamespaceError):
        return None
    snap = table.current_snapshot()
    state = (snap.snapshot_id if snap is not None else None, dict(table.properties))
    if len(_METADATA) >= _METADATA_CAP:
        _METADATA.clear()
    _METADATA[table.metadata_location] = state
    return table.metadata_location, *state


def resolve_snapshots(catalog: object, names: set[str]) -> dict[str, TableSnapshot]:
    """Pins each table's current metadata file and snapshot (see :func:`table_state`).

    Args:
        catalog: An open pyiceberg catalog.
        names: ``namespace.table`` names.

    Raises:
        UsageError: A table that does not exist.
    """
    out = {}
    for name in sorted(names):
        state = table_state(catalog, name)
        if state is None:
            raise UsageError(f"no table {name!r} in the catalog (has it been ingested?)")
        out[name] = TableSnapshot(name, state[0], state[1])
    return out
