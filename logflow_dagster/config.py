"""The project config (``logflow.yaml``): warehouse, sources, quality rules, maintenance, lineage,
semantic models.

One pydantic model is the single schema for ``logflow.yaml`` and for the attributes of the ``dg``
component (:class:`logflow_dagster.LogflowComponent` subclasses :class:`ProjectConfig`).
``${VAR}`` and ``${VAR:-default}`` are interpolated from the environment; errors name the file,
the key path and what was expected.

Example:
    >>> cfg = ProjectConfig.model_validate({"sources": [
    ...     {"name": "orders", "landing": "landing/orders/*.csv", "table": "raw.orders"}]})
    >>> cfg.sources[0].error_policy
    'strict'
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .core.errors import UsageError
from .core.formats import FORMAT_CHOICES
from .core.identifiers import RULE as IDENTIFIER_RULE
from .core.identifiers import identifier_problem
from .core.quality.rule_types import BOUNDED, RULE_TYPES, needed_settings

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogSettings(_Model):
    """Where tables live. Empty means the embedded default under ``.logflow/``."""

    kind: Literal["sql", "rest"] = Field("sql", description="sql (SQLAlchemy URL) or rest.")
    uri: str | None = Field(None, description="Catalog URL; default sqlite under .logflow/.")
    warehouse: str | None = Field(None, description="Warehouse URI; default .logflow/warehouse.")
    properties: dict[str, str] = Field(default_factory=dict,
                                       description="Passed to pyiceberg (s3.endpoint ...).")


class ReaderOptions(_Model):
    """How a source's files are read: overrides of what detection finds (the fields of
    :class:`~logflow_dagster.core.convert.ReadOptions` except ``format``). A key not listed
    here fails validation, naming it."""

    encoding: str | None = Field(None, description="Text encoding, e.g. utf-8, cp1252.")
    delimiter: str | None = Field(None, description="One-character field delimiter.")
    quote: str | None = Field(None, min_length=1, max_length=1,
                              description="CSV quote character (\" unless detected).")
    header: bool | None = Field(None, description="Whether the first row is a header.")
    sheet: str | int | None = Field(None, description="XLSX sheet name or 0-based index.")
    max_quoted_lines: int | None = Field(
        None, ge=1, description="Lines one quoted CSV field may span (default 1000); a quote "
                                "running further is a stray quote: its record is rejected.")
    max_quoted_bytes: int | None = Field(
        None, ge=1, description="Bytes one quoted CSV field may span (default 1 MiB).")
    schema_: dict[str, str] | None = Field(
        None, alias="schema", description='Column types, e.g. {"amount": "decimal(12,2)"}.')
    batch_size: int | None = Field(None, ge=1, description="Rows per decoded batch.")
    schema_cache: str | None = Field(None, description="Schema cache file (SQLite).")
    mmap: bool | None = Field(
        None, description="Memory-map local files (faster; off by default for landing "
                          "folders: a file truncated while mapped ends the process).")
    storage_options: dict[str, str] | None = Field(
        None, description="Object-storage properties for an s3:// landing (s3.endpoint, "
                          "s3.access-key-id, ...), over catalog.properties.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """The set options, keyed as ReadOptions names them (``schema``, not ``schema_``)."""
        kwargs.setdefault("by_alias", True)
        return super().model_dump(**kwargs)


class SourceConfig(_Model):
    """One landing location feeding one table."""

    name: str = Field(description="Source name (asset and sensor names derive from it).")
    landing: str = Field(description="Landing folder or glob, relative to the project.")
    table: str = Field(description="Target Iceberg table, namespace.table.",
                       json_schema_extra={"pattern": r"^[^.]+\..+$"})  # dg check yaml
    format: Literal[FORMAT_CHOICES] = Field(  # type: ignore[valid-type]
        "auto", description="Input format, or auto to detect it from content.")
    partition_by: list[str] = Field(default_factory=list,
                                    description="Iceberg partition fields, e.g. day(ts).")
    error_policy: Literal["strict", "permissive", "quarantine"] = Field(
        "strict", description="A bad record stops the file (strict), is skipped (permissive) "
                              "or is skipped and kept with its line (quarantine).")
    schema_policy: Literal["strict", "merge", "evolve"] = Field(
        "merge", description="strict: the table's columns exactly; merge: add columns, widen "
                             "types; evolve: as merge, and missing columns become null.")
    options: ReaderOptions = Field(default_factory=ReaderOptions,
                                   description="Reader options: encoding, delimiter, header, "
                                               "sheet, schema, batch_size, mmap.")
    partitioning: Literal["file", "daily", "hourly"] = Field(
        "file", description="Dagster partitions: one per landed file, or a daily/hourly window "
                            "of files by their modification time.")
    partition_start: str | None = Field(
        None, description="First window (YYYY-MM-DD) for daily/hourly partitioning.")

    @model_validator(mode="after")
    def _window_start(self) -> SourceConfig:
        if self.partitioning != "file" and not self.partition_start:
            raise ValueError(f"partitioning {self.partitioning!r} needs partition_start "
                             "(YYYY-MM-DD)")
        return self

    @field_validator("table")
    @classmethod
    def _qualified(cls, value: str) -> str:
        if "{{" in value:  # a dg template, checked again once resolved
            return value
        problem = identifier_problem(value)
        if problem is not None:
            raise ValueError(f"{problem}; use {IDENTIFIER_RULE}")
        return value

    @property
    def asset_name(self) -> str:
        """The table part of the target (the asset key is namespace/table)."""
        return self.table.rsplit(".", 1)[1]


def _rule_requirements(schema: dict[str, Any]) -> None:
    """Adds to the rule's JSON schema which settings each rule type needs, from the engine's
    own table, so that ``dg check yaml`` names a rule's missing key and its line."""
    conditions = []
    for rule_type in RULE_TYPES:
        keys = needed_settings(rule_type)
        then: dict[str, Any] = {"required": keys,
                                "properties": {k: {"not": {"type": "null"}} for k in keys}}
        if rule_type in BOUNDED:  # no min: then a max ("'max' is a required property")
            then["if"] = {"not": {"required": ["min"]}}
            then["then"] = {"required": ["max"]}
        if keys or rule_type in BOUNDED:
            conditions.append({"if": {"properties": {"type": {"const": rule_type}},
                                      "required": ["type"]}, "then": then})
    schema["allOf"] = conditions


class RuleConfig(_Model):
    """One quality rule on a table (evaluated as a Dagster asset check)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_rule_requirements)

    type: Literal[RULE_TYPES] = Field(description="The rule.")  # type: ignore[valid-type]
    column: str | None = Field(None, description="The column the rule looks at.")
    values: list[Any] | None = Field(None, description="accepted_values: the allowed values; "
                                                       "schema: the expected columns.")
    min: float | None = Field(None, description="Lower bound (range, row_count, "
                                                "distinct_count, entropy).")
    max: float | None = Field(None, description="Upper bound; null_ratio: the largest ratio; "
                                                "freshness: the largest age in seconds.")
    pattern: str | None = Field(None, description="regex: the pattern values fully match.")
    model: str | None = Field(None, description="pandera DataFrameModel import path.")
    suite: str | None = Field(None, description="Great Expectations suite file.")
    blocking: bool = Field(False, description="A failure stops downstream assets (ERROR).")


class MaintenanceConfig(_Model):
    """When tables are compacted and snapshots expired."""

    schedule: str = Field("0 3 * * *", description="Cron schedule for compaction + expiry.")
    small_files: int = Field(50, description="Compact when a table has this many small files.")
    max_snapshots: int = Field(100, description="Expire when a table has more snapshots.")
    expire_older_than: str = Field("7d", description="Snapshot age to expire.")


class LineageConfig(_Model):
    """OpenLineage transport."""

    transport: Literal["file", "http", "console", "off"] = Field(
        "file", description="file (JSON lines), http, console or off.")
    path: str = Field(".logflow/openlineage.jsonl",
                      description="File transport: target, relative to the project.")
    url: str | None = Field(None, description="HTTP transport: the endpoint.")
    namespace: str = Field("logflow", description="OpenLineage job namespace.")


_OWNER = r"^(team:.+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,7})$"  # Dagster's own test


class AssetSettings(_Model):
    """Asset-spec overrides for every asset of the project (what ``translation`` is to dg's
    Sling and dlt components). The key prefix is part of every key the sensors, checks and
    maintenance assets refer to."""

    key_prefix: str | list[str] = Field(
        default_factory=list,
        description="Prepended to every asset key (landing folders, tables, maintenance): "
                    "'lake', 'lake/bronze' or [lake, bronze].")
    group_name: str | None = Field(
        None, description="One asset group for all of the project's assets; default: the "
                          "table's namespace (and 'landing' for the landing folders).")
    owners: list[str] = Field(default_factory=list,
                              description="Asset owners: email addresses or team:NAME.",
                              json_schema_extra={"items": {"type": "string",
                                                           "pattern": _OWNER}})
    tags: dict[str, str] = Field(default_factory=dict, description="Tags on every asset.")
    kinds: list[str] = Field(
        default_factory=lambda: ["iceberg", "python"],
        description="Kinds shown on the table and maintenance assets (landing folders: file).")

    @property
    def prefix(self) -> list[str]:
        """The key prefix as path parts.

        Example:
            >>> AssetSettings(key_prefix="lake/bronze").prefix
            ['lake', 'bronze']
        """
        parts = self.key_prefix.split("/") if isinstance(self.key_prefix, str) else self.key_prefix
        return [p for p in parts if p]


class SemanticSettings(_Model):
    """The semantic layer: model files in Cube's YAML syntax and the rollup time zones."""

    models: list[str] = Field(
        default_factory=list,
        description="Model files (.yml/.yaml) or folders of them, relative to the project.")
    timezones: list[str] = Field(
        default_factory=lambda: ["UTC"],
        description="IANA time zones rollups are built for (like Cube's scheduled refresh "
                    "time zones).")

    @field_validator("timezones")
    @classmethod
    def _known_zones(cls, zones: list[str]) -> list[str]:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        for zone in zones:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {zone!r} (use an IANA name such as "
                                 "'UTC' or 'Europe/Berlin')") from None
        return zones


class JwtSettings(_Model):
    """JSON Web Tokens (what Cube's clients send): the key, algorithms and claims."""

    secret: str | None = Field(None, description="HS256 secret (use ${ENV}).")
    public_key: str | None = Field(
        None, description="RS256/ES256 public key: PEM text or a file relative to the project.")
    algorithms: list[str] = Field(default_factory=lambda: ["HS256"],
                                  description="Accepted algorithms (never 'none').")
    audience: str | None = Field(None, description="Required 'aud' claim, if any.")
    issuer: str | None = Field(None, description="Required 'iss' claim, if any.")
    tenant_claim: str = Field("tenant", description="The claim holding the tenant.")
    roles_claim: str = Field("roles", description="The claim holding the roles.")
    leeway: float = Field(0, ge=0, description="Seconds of clock skew allowed.")

    @model_validator(mode="after")
    def _has_key(self) -> JwtSettings:
        if not self.secret and not self.public_key:
            raise ValueError("auth.jwt needs a secret (HS256) or a public_key (RS256)")
        if any(a.lower() == "none" for a in self.algorithms):
            raise ValueError("auth.jwt.algorithms: 'none' is never accepted")
        return self


class AuditSettings(_Model):
    """Where every query and refusal is recorded, and what a declared purpose hides."""

    path: str = Field(".logflow/audit.jsonl", description="Append-only JSON-lines file "
                                                           "(relative to the project); "
                                                           "'off' records nothing.")
    redact: dict[str, list[Literal["identity", "ip"]]] = Field(
        default_factory=lambda: {"research": ["identity", "ip"]},
        description="Purpose -> fields redacted in its records: identity (dropped) and ip "
                    "(truncated to /24, /48).")


class AuthSettings(_Model):
    """Authentication (API keys, JWT) and the audit log. Without ``auth:`` the APIs are
    anonymous and serve local clients only."""

    keys_file: str | None = Field(None, description="API keys file (hashed), written by "
                                                    "`logflow keys`.")
    jwt: JwtSettings | None = Field(None, description="JSON Web Tokens.")
    write_roles: list[str] = Field(
        default_factory=lambda: ["admin", "writer"],
        description="Roles that may ingest, maintain tables and build rollups (read access "
                    "is the model's access policies).")
    audit: AuditSettings = Field(default_factory=AuditSettings, description="Audit log.")


class ApiSettings(_Model):
    """The HTTP API (``logflow serve``): limits, CORS and the "Continue wait" hold."""

    row_limit: int = Field(10_000, ge=1, description="Rows a query returns when it sets no "
                                                     "limit (Cube's default).")
    max_row_limit: int = Field(50_000, ge=1, le=50_000,
                               description="The largest limit a query may ask for (Cube's "
                                           "maximum); SQL results are cut to it.")
    max_body_bytes: int = Field(1_000_000, ge=1_024,
                                description="Largest request body; larger ones get 413.")
    query_timeout_s: float = Field(60.0, gt=0, description="A query still running after "
                                                            "this long is answered 504.")
    continue_wait_s: float = Field(5.0, ge=0, description="How long a /load request is held "
                                                          "before it answers Continue wait.")
    cors_origins: list[str] = Field(default_factory=list,
                                    description="Origins allowed by CORS ('*' for any); "
                                                "none by default.")

    @model_validator(mode="after")
    def _default_within_max(self) -> ApiSettings:
        if self.row_limit > self.max_row_limit:
            raise ValueError(f"row_limit {self.row_limit} is over max_row_limit "
                             f"{self.max_row_limit}")
        return self


class ExecutionConfig(_Model):
    """How Dagster runs the steps of a run (``execution:``); the default leaves Dagster's."""

    executor: Literal["default", "in_process", "multiprocess", "celery"] = Field(
        "default", description="default (Dagster's multiprocess-or-in-process), in_process, "
                               "multiprocess, or celery (dagster-celery workers).")
    max_concurrent: int | None = Field(
        None, ge=1, description="multiprocess: steps at once (default: the CPU count).")
    start_method: Literal["spawn", "forkserver"] = Field(
        "spawn", description="multiprocess: how step processes start; forkserver forks them "
                             "from a server that imported dagster and logflow once.")
    broker: str | None = Field(
        None, description="celery: broker URL, e.g. amqp://guest:guest@127.0.0.1:5672// "
                          "or redis://127.0.0.1:6379/0.")
    backend: str | None = Field(
        None, description="celery: result backend (default rpc://; redis://... works).")
    include: list[str] = Field(
        default_factory=list, description="celery: modules the workers import.")
    config_source: dict[str, Any] = Field(
        default_factory=dict, description="celery: extra Celery settings.")


class ProjectConfig(_Model):
    """The whole of ``logflow.yaml`` (and the attributes of ``LogflowComponent``)."""

    project: str = Field("logflow", description="Project name (OpenLineage namespace).")
    catalog: CatalogSettings = Field(default_factory=CatalogSettings,
                                     description="Iceberg catalog and warehouse.")
    sources: list[SourceConfig] = Field(default_factory=list,
                                        description="Landing locations, one table each.")
    checks: dict[str, list[RuleConfig]] = Field(
        default_factory=dict, description="Quality rules per table (namespace.table).")
    maintenance: MaintenanceConfig = Field(default_factory=MaintenanceConfig,
                                           description="Compaction and snapshot expiry.")
    lineage: LineageConfig = Field(default_factory=LineageConfig,
                                   description="Where OpenLineage events go.")
    assets: AssetSettings = Field(default_factory=AssetSettings,
                                  description="Asset-spec overrides: key prefix, group, owners, "
                                              "tags, kinds.")
    semantic: SemanticSettings = Field(default_factory=SemanticSettings,
                                       description="Semantic layer: model files (Cube YAML) "
                                                   "and rollup time zones.")
    api: ApiSettings = Field(default_factory=ApiSettings,
                             description="The HTTP API: row and body limits, query timeout, "
                                         "CORS, the Continue-wait hold.")
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig,
                                       description="The Dagster executor of the asset jobs.")
    auth: AuthSettings = Field(default_factory=AuthSettings,
                               description="Authentication (API keys, JWT) and the audit log.")
    root: str = Field(".", description="Project folder (set from the config file's folder).")

    @field_validator("checks")
    @classmethod
    def _checks_have_a_writer(cls, checks: dict[str, list[RuleConfig]],
                              info: ValidationInfo) -> dict[str, list[RuleConfig]]:
        sources = info.data.get("sources")
        if sources is None:  # the sources failed validation: that error is reported
            return checks
        written = {s.table for s in sources}
        if any("{{" in t for t in written):  # dg templates: checked again once resolved
            return checks
        for table in checks:
            if table not in written:
                known = ", ".join(sorted(written)) or "none"
                raise ValueError(f"rules for {table!r}, which no source writes (tables of "
                                 f"the sources: {known})")
        return checks

    def rules_for(self, table: str) -> list[RuleConfig]:
        """The rules declared for ``table``."""
        return self.checks.get(table, [])


def interpolate(value: Any, where: str = "") -> Any:
    """Replaces ``${VAR}`` / ``${VAR:-default}`` in every string of a YAML document.

    Raises:
        UsageError: For an unset variable without default, naming where it is used.

    Example:
        >>> interpolate({"a": "${HOME_X:-/srv}"})
        {'a': '/srv'}
    """
    if isinstance(value, dict):
        return {k: interpolate(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise UsageError(f"{where}: environment variable {name} is not set")
        return _ENV.sub(sub, value)
    return value


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    file = Path(path)
    if not file.exists():
        raise UsageError(f"{file}: no such config file")
    text = file.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise UsageError(f"{file}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise UsageError(f"{file}: expected a mapping at the top level")
    try:
        raw = interpolate(raw)
    except UsageError as err:
        raise UsageError(f"{file}: {err}") from None
    raw.setdefault("root", str(file.resolve().parent))
    return raw, text


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads ``logflow.yaml`` into a mapping: ``${VAR}`` interpolated, ``root`` defaulting to
    the file's folder. Not validated yet (see :func:`parse_config`).

    Raises:
        UsageError: For a missing file, bad YAML or an unset variable, naming the file.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = Path(tmp, "logflow.yaml").write_text("project: ${USER_NAME}_lake\\n")
        ...     os.environ["USER_NAME"] = "ada"
        ...     raw = read_config(Path(tmp, "logflow.yaml"))
        ...     del os.environ["USER_NAME"]
        >>> raw["project"], raw["root"] == tmp
        ('ada_lake', True)
    """
    return _read(path)[0]


def load_config(path: str | os.PathLike[str] = "logflow.yaml") -> ProjectConfig:
    """Reads and validates ``logflow.yaml``.

    Raises:
        UsageError: Naming the file, the line, the key path and what was expected.

    Example:
        >>> import tempfile
        >>> yaml = "sources:\\n  - {name: orders, landing: landing, table: raw.orders}\\n"
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = Path(tmp, "logflow.yaml").write_text(yaml)
        ...     cfg = load_config(Path(tmp, "logflow.yaml"))
        >>> cfg.sources[0].table, cfg.sources[0].partitioning, cfg.lineage.transport
        ('raw.orders', 'file', 'file')
    """
    raw, text = _read(path)
    return parse_config(raw, source=str(Path(path)), text=text)


def parse_config(raw: dict[str, Any], source: str = "<config>",
                 text: str | None = None) -> ProjectConfig:
    """Validates a config mapping; errors name the key path (and its line, given the YAML).

    Raises:
        UsageError: One line per problem: ``source[:line]: key.path: what was expected``.

    Example:
        >>> parse_config({"sources": [{"name": "o", "landing": "l", "table": "orders"}]})
        Traceback (most recent call last):
        ...
        logflow_dagster.core.errors.exceptions.UsageError: <config>: sources.0.table: ...
    """
    try:
        return ProjectConfig.model_validate(raw)
    except ValidationError as err:
        raise UsageError("\n".join(
            located(source, text, e["loc"], e["msg"].removeprefix("Value error, "))
            for e in err.errors())) from None


def located(source: str, text: str | None, loc: Sequence[str | int], message: str) -> str:
    r"""``source:line: key.path: message`` (the line where ``text``, the YAML, has the key).

    Example:
        >>> located("logflow.yaml", "a:\n  b: 1\n", ["a", "b"], "too small")
        'logflow.yaml:2: a.b: too small'
    """
    line = yaml_line(text, loc) if text else None
    where = ".".join(str(p) for p in loc)
    return f"{source}:{line}: {where}: {message}" if line else f"{source}: {where}: {message}"


def yaml_line(text: str, loc: Sequence[str | int]) -> int | None:
    r"""The 1-based line of the deepest key of ``loc`` found in the YAML ``text``.

    Example:
        >>> yaml_line("sources:\n  - name: a\n    table: t\n", ["sources", 0, "table"])
        3
    """
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                continue  # pydantic's union tags ("function-after[...]") are not keys
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
    return line
