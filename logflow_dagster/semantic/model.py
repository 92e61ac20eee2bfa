"""The semantic model as typed dataclasses: what :mod:`.loader` builds from Cube's YAML syntax
and what the query normalizer, the compiler and the rollup router read.

Every object carries a :class:`Location` (file, line, key path) so that any later error about
it can name where it was declared. Member SQL is kept twice: as written (``sql``) and parsed
(``snippet``, a :class:`~.snippets.Snippet`: a sqlglot expression whose ``{...}`` references
are placeholders, resolved by the compiler as AST).

Names: a member is addressed as ``cube.member`` (:meth:`SemanticModel.member`); pre-aggregation
member lists are normalized to that form at load (``CUBE.count`` and ``count`` become
``orders.count``).

Example:
    >>> from logflow_dagster.semantic.loader import load_model_text
    >>> m = load_model_text('''
    ... cubes:
    ...   - name: orders
    ...     sql_table: raw.orders
    ...     measures: [{name: count, type: count}]
    ...     dimensions: [{name: id, sql: id, type: number, primary_key: true}]
    ... ''')
    >>> m.member("orders.count").type, [d.name for d in m.cube("orders").primary_keys]
    ('count', ['id'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..core.errors import UsageError

if TYPE_CHECKING:
    from .snippets import Snippet

DimensionType = Literal["string", "number", "boolean", "time"]
MeasureType = Literal["count", "count_distinct", "count_distinct_approx", "sum", "avg", "min",
                      "max", "number"]
Relationship = Literal["many_to_one", "one_to_many", "one_to_one"]

#: Granularities of time dimensions and rollups, finest first (week is ISO: Monday start).
GRANULARITIES: tuple[str, ...] = ("second", "minute", "hour", "day", "week", "month", "quarter",
                                  "year")
#: Measure types whose values can be re-aggregated from finer groups as they are.
ADDITIVE_MEASURES = frozenset({"count", "sum", "min", "max"})
#: Cube's relationship aliases, mapped to the canonical names.
RELATIONSHIP_ALIASES = {"belongs_to": "many_to_one", "belongsTo": "many_to_one",
                        "has_many": "one_to_many", "hasMany": "one_to_many",
                        "has_one": "one_to_one", "hasOne": "one_to_one",
                        "many_to_one": "many_to_one", "one_to_many": "one_to_many",
                        "one_to_one": "one_to_one"}


@dataclass(frozen=True)
class Location:
    """Where something was declared: ``file:line: key.path``.

    Example:
        >>> str(Location("m.yml", 7, ("cubes", 0, "measures", 1, "type")))
        'm.yml:7: cubes.0.measures.1.type'
    """

    file: str
    line: int | None
    path: tuple[str | int, ...]

    def __str__(self) -> str:
        where = ".".join(str(p) for p in self.path)
        return f"{self.file}:{self.line}: {where}" if self.line else f"{self.file}: {where}"

    def error(self, message: str) -> UsageError:
        """A :class:`UsageError` naming this place."""
        return UsageError(f"{self}: {message}")


@dataclass
class Member:
    """What dimensions, measures and segments share.

    Attributes:
        name: The member's own name (``count``).
        cube: The name of the cube that declares it.
        sql: The SQL snippet as written (None where Cube allows none, e.g. ``count``).
        title: The title given, or None (see :meth:`title_or_default`).
        description: Free text.
        public: False hides it from ``meta`` and refuses it in queries (it may still be
            referenced by other members).
        meta: Cube's free-form ``meta`` mapping, passed through to ``meta``.
        location: Where it was declared.
        snippet: ``sql`` parsed (set by the loader).
        sql_location: Where its ``sql`` key is.
    """

    name: str
    cube: str
    sql: str | None = None
    title: str | None = None
    description: str | None = None
    public: bool = True
    meta: dict[str, Any] = field(default_factory=dict)
    location: Location = field(default_factory=lambda: Location("<model>", None, ()))
    snippet: Snippet | None = field(default=None, repr=False, compare=False)
    sql_location: Location | None = field(default=None, repr=False, compare=False)
    #: What the member reads as where an access policy masks it (None: NULL).
    mask: Any = None

    @property
    def path(self) -> str:
        """``cube.member``."""
        return f"{self.cube}.{self.name}"

    def short_title(self) -> str:
        """The member's own title (Cube's ``shortTitle``): given, else the name titleized."""
        return self.title or titleize(self.name)


@dataclass
class Dimension(Member):
    """A dimension: ``type`` string, number, boolean or time; ``primary_key`` marks the column
    that identifies a row of the cube (needed to de-duplicate measures across fan-out joins).
    ``format`` is Cube's dimension format (``imageUrl``, ``id``, ``link``, ``currency``,
    ``percent``), passed to the annotation."""

    type: DimensionType = "string"
    primary_key: bool = False
    format: Any = None


@dataclass
class MeasureFilter:
    """One ``filters: [{sql: ...}]`` entry of a measure: rows it aggregates must satisfy it."""

    sql: str
    location: Location
    snippet: Snippet | None = field(default=None, repr=False, compare=False)


@dataclass
class Measure(Member):
    """A measure.

    Attributes:
        type: ``count`` (rows, or non-null ``sql`` values), ``count_distinct``,
            ``count_distinct_approx`` (DuckDB's ``approx_count_distinct``), ``sum``, ``avg``,
            ``min``, ``max``, or ``number``: a formula over other measures (``{count} * 2``,
            ``{orders.total} / {orders.count}``) or over aggregate SQL of its own cube.
        filters: Row conditions (AND) of the rows it aggregates (not allowed on ``number``).
        format: ``percent`` or ``currency`` (annotation only).
    """

    type: MeasureType = "count"
    filters: list[MeasureFilter] = field(default_factory=list)
    format: str | None = None

    @property
    def additive(self) -> bool:
        """Whether partial results of this measure can be combined as they are
        (count, sum, min, max); ``avg`` and ``number`` need their parts, the distinct counts
        cannot be combined exactly."""
        return self.type in ADDITIVE_MEASURES


@dataclass
class Segment(Member):
    """A named row condition (``sql`` is a boolean expression) a query can ask for."""


@dataclass
class Join:
    """A join declared on a cube (``source``) to another cube (``target``, its ``name``).

    Attributes:
        relationship: Canonical: ``many_to_one`` (belongs_to: many source rows per target
            row), ``one_to_many`` (has_many) or ``one_to_one`` (has_one).
        sql: The ON condition with ``{CUBE}.col`` (the source) and ``{target}.col``.
    """

    source: str
    target: str
    relationship: Relationship
    sql: str
    location: Location
    snippet: Snippet | None = field(default=None, repr=False, compare=False)

    def multiplies(self, from_cube: str) -> bool:
        """Whether walking this join away from ``from_cube`` can repeat its rows (fan-out).

        Example:
            >>> j = Join("customers", "orders", "one_to_many", "", Location("m", 1, ()))
            >>> j.multiplies("customers"), j.multiplies("orders")
            (True, False)
        """
        if from_cube == self.source:
            return self.relationship == "one_to_many"
        return self.relationship == "many_to_one"


@dataclass
class PreAggregation:
    """A ``type: rollup`` pre-aggregation, parsed and validated; built and routed to by the
    rollup layer. Member lists hold full paths (``orders.count``).

    Attributes:
        name: Its name (unique within the cube); addressed as ``cube.name``.
        cube: The declaring cube.
        measures, dimensions, segments: Members it stores.
        time_dimension: ``cube.dim`` of the time dimension it buckets by, or None.
        granularity: The bucket (one of :data:`GRANULARITIES`), required with a time dimension.
        partition_granularity: The Iceberg/Dagster partition bucket, or None.
        refresh_key: Accepted and ignored (freshness comes from Dagster).
    """

    name: str
    cube: str
    location: Location
    type: Literal["rollup"] = "rollup"
    measures: list[str] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    time_dimension: str | None = None
    granularity: str | None = None
    partition_granularity: str | None = None
    refresh_key: Any = None
    member_locations: dict[str, Location] = field(default_factory=dict, repr=False,
                                                  compare=False)

    @property
    def path(self) -> str:
        """``cube.name`` (how the router reports it)."""
        return f"{self.cube}.{self.name}"


@dataclass
class Cube:
    """A cube: one table (``sql_table``) or one SELECT (``sql``), and its members.

    Attributes:
        name: The cube's name (SQL alias and member prefix).
        sql_table: ``namespace.table`` of the project's catalog, or None.
        sql: A SELECT over ``namespace.table`` tables, or None (exactly one of the two).
        title, description, public: As in Cube; a non-public cube is hidden from ``meta``
            and cannot be queried directly.
        joins: Joins declared on this cube, by target cube name.
        dimensions, measures, segments, pre_aggregations: By member name, in declaration order.
        location: Where the cube was declared.
        sql_ast: ``sql`` parsed (a sqlglot SELECT), set by the loader.
    """

    name: str
    location: Location
    sql_table: str | None = None
    sql: str | None = None
    title: str | None = None
    description: str | None = None
    public: bool = True
    meta: dict[str, Any] = field(default_factory=dict)
    joins: dict[str, Join] = field(default_factory=dict)
    dimensions: dict[str, Dimension] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    segments: dict[str, Segment] = field(default_factory=dict)
    pre_aggregations: dict[str, PreAggregation] = field(default_factory=dict)
    sql_ast: Any = field(default=None, repr=False, compare=False)
    #: Cube's ``access_policy`` (:class:`~.policies.AccessPolicy` entries).
    access_policy: list[Any] = field(default_factory=list)

    @property
    def primary_keys(self) -> list[Dimension]:
        """The ``primary_key: true`` dimensions (several make a composite key, as in Cube)."""
        return [d for d in self.dimensions.values() if d.primary_key]

    def title_or_default(self) -> str:
        """The title given, else the name titleized (``order_items`` -> ``Order Items``)."""
        return self.title or titleize(self.name)

    def member(self, name: str) -> Dimension | Measure | Segment | None:
        """A member of this cube by its own name, or None."""
        return self.dimensions.get(name) or self.measures.get(name) or self.segments.get(name)


@dataclass
class SemanticModel:
    """All cubes of a project (from every model file).

    Attributes:
        cubes: By name, in load order.
        files: The model files read.
    """

    cubes: dict[str, Cube] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def cube(self, name: str) -> Cube:
        """The cube called ``name``.

        Raises:
            UsageError: Naming the cubes there are.
        """
        try:
            return self.cubes[name]
        except KeyError:
            known = ", ".join(self.cubes) or "none"
            raise UsageError(f"unknown cube {name!r} (cubes: {known})") from None

    def find(self, path: str) -> Dimension | Measure | Segment | None:
        """The member ``cube.member``, or None (no error)."""
        cube_name, _, name = path.partition(".")
        cube = self.cubes.get(cube_name)
        return cube.member(name) if cube is not None and name else None

    def member(self, path: str) -> Dimension | Measure | Segment:
        """The member ``cube.member``.

        Raises:
            UsageError: An unknown cube or member, naming what there is.
        """
        cube_name, dot, name = path.partition(".")
        if not dot or not name or "." in name:
            raise UsageError(f"{path!r}: expected a member as 'cube.member'")
        cube = self.cube(cube_name)
        found = cube.member(name)
        if found is None:
            raise UsageError(f"unknown member {path!r} (cube {cube_name} has: "
                             f"{', '.join([*cube.dimensions, *cube.measures, *cube.segments])})")
        return found

    def dimension(self, path: str) -> Dimension:
        """The dimension ``cube.dim``; a UsageError when it is not one."""
        found = self.member(path)
        if not isinstance(found, Dimension):
            raise UsageError(f"{path!r} is a {kind_of(found)}, not a dimension")
        return found

    def measure(self, path: str) -> Measure:
        """The measure ``cube.measure``; a UsageError when it is not one."""
        found = self.member(path)
        if not isinstance(found, Measure):
            raise UsageError(f"{path!r} is a {kind_of(found)}, not a measure")
        return found

    def segment(self, path: str) -> Segment:
        """The segment ``cube.segment``; a UsageError when it is not one."""
        found = self.member(path)
        if not isinstance(found, Segment):
            raise UsageError(f"{path!r} is a {kind_of(found)}, not a segment")
        return found

    def leaf_measures(self, path: str) -> list[str]:
        """The non-``number`` measures a measure is computed from (itself when it is not a
        ``number``), in first-reference order: what a rollup stores for a formula.

        Example:
            >>> SemanticModel().leaf_measures  # doctest: +ELLIPSIS
            <bound method SemanticModel.leaf_measures of ...>
        """
        measure = self.measure(path)
        if measure.type != "number" or measure.snippet is None:
            return [path]
        out: list[str] = []
        for ref in measure.snippet.member_refs():
            target = ref.resolve(measure.cube)
            if isinstance(self.find(target), Measure):
                for leaf in self.leaf_measures(target):
                    if leaf not in out:
                        out.append(leaf)
        return out

    def pre_aggregations(self) -> list[PreAggregation]:
        """Every pre-aggregation of every cube, in declaration order."""
        return [p for c in self.cubes.values() for p in c.pre_aggregations.values()]

    def tables(self) -> set[str]:
        """Every ``namespace.table`` the cubes read (``sql_table`` and tables in ``sql``)."""
        from .tables import tables_in

        out: set[str] = set()
        for cube in self.cubes.values():
            if cube.sql_table:
                out.add(cube.sql_table)
            elif cube.sql_ast is not None:
                out |= tables_in(cube.sql_ast)
        return out


def kind_of(member: Member) -> str:
    """``dimension``, ``measure`` or ``segment``."""
    return type(member).__name__.lower()


def titleize(name: str) -> str:
    """Cube's default title of a name: words split at ``_`` and case changes, capitalized.

    Example:
        >>> titleize("created_at"), titleize("orderCount")
        ('Created At', 'Order Count')
    """
    import re

    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).replace("-", "_").split("_")
    return " ".join(w[:1].upper() + w[1:] for w in words if w)
