"""What belongs to the other tables of a catalog: files that orphan removal and expiry of one
table must never delete.

A table whose location lies inside another's (a name such as ``raw.t/x`` once made that
possible, and other tools can still do it) would otherwise see the inner table's files as its
own orphans. The guard protects every file under another table's location (unless that
location contains this table's own: a parent folder is not a claim) and every file another
table's metadata references, wherever it lies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..storage import canonical_uri
from .references import is_under, referenced_files

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table


class OtherTables:
    """The locations and referenced files of a catalog's other tables.

    Example:
        >>> guard = OtherTables(["file:///wh/raw/t/x"], set(), own_location="file:///wh/raw/t")
        >>> guard.claim("file:///wh/raw/t/x/data/a.parquet")
        'under the location of another table (file:///wh/raw/t/x)'
        >>> guard.claim("file:///wh/raw/t/data/b.parquet") is None
        True
    """

    def __init__(self, locations: list[str], referenced: set[str], *, own_location: str,
                 names: dict[str, str] | None = None) -> None:
        own = canonical_uri(own_location)
        # a location that holds this table's own is a parent folder, not a claim on its files
        self.locations = [canonical_uri(loc) for loc in locations
                          if not (own == canonical_uri(loc) or is_under(own, loc))]
        self.referenced = referenced
        self.names = names or {}

    @classmethod
    def of(cls, catalog: Catalog, table: Table) -> OtherTables:
        """Reads every other table of ``catalog`` (locations and all referenced files)."""
        own = tuple(table.name())[-2:]
        locations: list[str] = []
        referenced: set[str] = set()
        names: dict[str, str] = {}
        for namespace in catalog.list_namespaces():
            for ident in catalog.list_tables(namespace):
                if tuple(ident)[-2:] == own:
                    continue
                other = catalog.load_table(ident)
                locations.append(other.location())
                names[canonical_uri(other.location())] = ".".join(ident)
                refs = referenced_files(other)
                referenced.update(refs)
                names.update(dict.fromkeys(refs, ".".join(ident)))
        return cls(locations, referenced, own_location=table.location(), names=names)

    def claim(self, path: str) -> str | None:
        """Why ``path`` belongs to another table, or None when it does not.

        Example:
            >>> OtherTables([], {"file:///x/a"}, own_location="file:///t").claim("/x/a")
            'referenced by another table'
        """
        key = canonical_uri(path)
        if key in self.referenced:
            owner = self.names.get(key)
            return f"referenced by table {owner}" if owner else "referenced by another table"
        for location in self.locations:
            if is_under(key, location):
                owner = self.names.get(location)
                return (f"under the location of table {owner} ({location})" if owner else
                        f"under the location of another table ({location})")
        return None
