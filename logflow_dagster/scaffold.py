"""``logflow init``: a ready Dagster project folder (config, definitions, landing, .logflow);
and the starter config ``dg scaffold defs logflow_dagster.LogflowComponent NAME`` writes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

LOGFLOW_YAML = """\
# logflow project: files landing in these folders become Iceberg tables (see README).
project: {name}
catalog: {{}}          # embedded default: .logflow/catalog.db + .logflow/warehouse
sources:
  - name: orders_csv
    landing: landing/csv
    table: raw.orders_csv
    error_policy: quarantine
    partition_by: ["day(timestamp)"]
  - name: orders_jsonl
    landing: landing/jsonl
    table: raw.orders_jsonl
    error_policy: quarantine
  - name: orders_xes
    landing: landing/xes
    table: raw.orders_xes
    format: xes
checks:              # quality rules: one Dagster asset check each (blocking: stop downstream)
  raw.orders_csv:
    - {{type: not_null, column: case_id, blocking: true}}
    - {{type: accepted_values, column: activity, blocking: true,
       values: [create order, check credit, approve, pick, ship, invoice, pay]}}
    # WARN: the sample plants a few rows with region 'eu' (lower case); this check flags them
    - {{type: accepted_values, column: region, values: [EU, US, APAC]}}
    - {{type: range, column: amount, min: 0, max: 10000}}
    - {{type: freshness, column: _ingested_at, max: 86400}}   # landed within the last day
    - {{type: pandera, model: quality.models.OrderEvents}}
    - {{type: great_expectations, suite: quality/orders_suite.json}}
  raw.orders_jsonl:
    - {{type: row_count, min: 1, blocking: true}}
    - {{type: null_ratio, column: resource, max: 0}}
  raw.orders_xes:
    - {{type: not_null, column: case:concept:name}}
    - {{type: distinct_count, column: concept:name, min: 3, max: 7}}
lineage:
  transport: file
  path: .logflow/openlineage.jsonl
semantic:            # Cube-style models (logflow query / meta); rollups per time zone
  models: [models]
  timezones: [UTC]
"""

SALES_MODEL_YML = """\
# Sales: orders by day and region (Cube's YAML data-model syntax; `logflow meta` lists it).
cubes:
  - name: sales
    sql_table: raw.orders_csv
    title: Sales
    description: Order events with the order amount; revenue counts each order once.
    dimensions:
      - {name: case_id, sql: case_id, type: string, title: Order}
      - {name: region, sql: region, type: string}
      - {name: activity, sql: activity, type: string}
      - {name: at, sql: '"timestamp"', type: time, title: Time}
    measures:
      - {name: events, type: count}
      - {name: orders, sql: case_id, type: count_distinct}
      - {name: orders_approx, sql: case_id, type: count_distinct_approx}
      - name: revenue
        sql: amount
        type: sum
        format: currency
        filters: [{sql: "{CUBE}.activity = 'create order'"}]
      - name: avg_order_amount
        sql: amount
        type: avg
        format: currency
        filters: [{sql: "{CUBE}.activity = 'create order'"}]
      - {name: max_order_amount, sql: amount, type: max, format: currency}
      - name: revenue_per_order
        sql: "{revenue} / NULLIF({orders}, 0)"
        type: number
        format: currency
    segments:
      - {name: eu, sql: "{CUBE}.region = 'EU'"}
    pre_aggregations:
      - name: revenue_by_day
        measures: [revenue, avg_order_amount, events]
        dimensions: [region]
        time_dimension: at
        granularity: day
        partition_granularity: month
"""

PROCESS_MODEL_YML = """\
# Process mining over the order-to-cash event log: events, cases, throughput, variants, rework.
cubes:
  - name: events
    sql_table: raw.orders_csv
    joins:
      - name: cases
        relationship: many_to_one
        sql: "{CUBE}.case_id = {cases}.case_id"
    dimensions:
      - {name: case_id, sql: case_id, type: string, title: Case}
      - {name: activity, sql: activity, type: string}
      - {name: resource, sql: resource, type: string}
      - {name: at, sql: '"timestamp"', type: time, title: Time}
    measures:
      - {name: count, type: count, title: Events}
      - {name: cases, sql: case_id, type: count_distinct}
      - {name: resources, sql: resource, type: count_distinct}
    pre_aggregations:
      - name: events_by_activity
        measures: [count, cases]
        dimensions: [activity, resource]
        time_dimension: at
        granularity: day
        partition_granularity: month
  - name: cases
    sql: >
      SELECT case_id, min("timestamp") AS started_at, max("timestamp") AS ended_at,
             count(*) AS events, count(*) - count(DISTINCT activity) AS repeated_steps,
             string_agg(activity, ' > ' ORDER BY "timestamp") AS variant
      FROM raw.orders_csv GROUP BY case_id
    dimensions:
      - {name: case_id, sql: case_id, type: string, primary_key: true, title: Case}
      - {name: started_at, sql: started_at, type: time}
      - {name: ended_at, sql: ended_at, type: time}
      - {name: variant, sql: variant, type: string}
      - {name: events, sql: events, type: number}
      - name: throughput_hours
        sql: "date_diff('second', {CUBE}.started_at, {CUBE}.ended_at) / 3600.0"
        type: number
      - {name: has_rework, sql: "{CUBE}.repeated_steps > 0", type: boolean}
    measures:
      - {name: count, type: count, title: Cases}
      - {name: avg_throughput_hours, sql: "{throughput_hours}", type: avg}
      - {name: max_throughput_hours, sql: "{throughput_hours}", type: max}
      - {name: variants, sql: variant, type: count_distinct}
      - name: reworked
        type: count
        filters: [{sql: "{CUBE}.repeated_steps > 0"}]
      - name: rework_rate
        sql: "1.0 * {reworked} / NULLIF({count}, 0)"
        type: number
        format: percent
    segments:
      - {name: with_rework, sql: "{CUBE}.repeated_steps > 0"}
    pre_aggregations:
      - name: cases_by_variant
        measures: [count, avg_throughput_hours, reworked]
        dimensions: [variant]
        time_dimension: started_at
        granularity: week
"""

#: Model files ``logflow init`` writes into ``models/`` (listed by ``semantic.models``).
MODEL_FILES = {"models/sales.yml": SALES_MODEL_YML, "models/process.yml": PROCESS_MODEL_YML}

QUALITY_MODELS_PY = '''\
"""pandera models the project's rules name (`model: quality.models.OrderEvents`)."""

import pandera.pandas as pa
from pandera.typing import Series


class OrderEvents(pa.DataFrameModel):
    """One event of the order-to-cash process (other columns are not checked)."""

    case_id: Series[str] = pa.Field(str_matches=r"^O-[0-9]{5}$")
    amount: Series[float] = pa.Field(ge=0, nullable=True)
'''

ORDERS_SUITE_JSON = """\
{
  "name": "orders",
  "expectations": [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "timestamp"}},
    {"type": "expect_column_values_to_match_regex",
     "kwargs": {"column": "resource", "regex": "^clerk-[0-9]{2}$"}}
  ]
}
"""

DEFINITIONS_PY = '''\
"""Dagster code location of this logflow project (`logflow dev` shows it in the UI)."""

from pathlib import Path

from logflow_dagster import build_definitions, load_config

defs = build_definitions(load_config(Path(__file__).parent / "logflow.yaml"))
'''

WORKSPACE_YAML = "load_from:\n  - python_file: definitions.py\n"

DAGSTER_YAML = "telemetry:\n  enabled: false\n"

GITIGNORE = "# the embedded Iceberg catalog, warehouse and lineage log\n.logflow/\n"


DISTRIBUTED_LOGFLOW_YAML = """\
# logflow project, distributed profile (docs/deploy.md): landing and warehouse on S3-compatible
# object storage, the Iceberg catalog on PostgreSQL, steps on Celery workers. Every ${{VAR}} is
# read from the environment (deploy/env.sh sets them for one machine).
project: {name}
catalog:
  uri: ${{LOGFLOW_CATALOG_URI:-postgresql+psycopg2://postgres@127.0.0.1:5432/logflow}}
  warehouse: ${{LOGFLOW_WAREHOUSE:-s3://lake/warehouse}}
  properties:                     # pyiceberg's keys; the landing listing and reads use them too
    s3.endpoint: ${{LOGFLOW_S3_ENDPOINT:-http://127.0.0.1:8333}}
    s3.access-key-id: ${{AWS_ACCESS_KEY_ID}}
    s3.secret-access-key: ${{AWS_SECRET_ACCESS_KEY}}
    s3.region: ${{AWS_REGION:-us-east-1}}
sources:
  - name: orders
    landing: ${{LOGFLOW_LANDING:-s3://lake/landing/orders}}/*.csv
    table: raw.orders
    error_policy: quarantine
    partition_by: ["day(timestamp)"]
checks:
  raw.orders:
    - {{type: not_null, column: case_id, blocking: true}}
execution:
  executor: celery                # or multiprocess / in_process (Kubernetes: docs/deploy.md)
  broker: ${{LOGFLOW_CELERY_BROKER:-amqp://guest:guest@127.0.0.1:5672//}}
  backend: ${{LOGFLOW_CELERY_BACKEND:-rpc://}}
lineage:
  transport: file
  path: .logflow/openlineage.jsonl
"""

#: The Dagster instance of the distributed profile: PostgreSQL storage, a run queue that
#: lets one run per table write at a time (runs carry the ``logflow/table`` tag), run
#: monitoring to fail runs whose process died.
DISTRIBUTED_DAGSTER_YAML = """\
# Dagster instance, distributed profile (docs/deploy.md). DAGSTER_HOME points at this folder
# for the webserver, the daemon, `logflow run` and every Celery worker.
telemetry:
  enabled: false
storage:
  postgres:
    postgres_url:
      env: DAGSTER_POSTGRES_URL   # postgresql+psycopg2://user@host:5432/dagster (name the driver)
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 16
    tag_concurrency_limits:
      - key: logflow/table        # set by the landing sensors on every run they request
        value:
          applyLimitPerUniqueValue: true
        limit: 1                  # one writer per table; other tables' runs go on
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
"""

#: What ``dagster-celery worker start -y`` reads: the broker (and backend) of the workers.
DISTRIBUTED_CELERY_YAML = """\
# dagster-celery worker config (the same block as the executor's config in logflow.yaml):
#   dagster-celery worker start -A dagster_celery.app -y deploy/celery.yaml
execution:
  config:
    broker: amqp://guest:guest@127.0.0.1:5672//   # RabbitMQ; Redis: redis://127.0.0.1:6379/0
    backend: rpc://                               # Redis: redis://127.0.0.1:6379/1
"""

DISTRIBUTED_ENV_SH = """\
# source deploy/env.sh: one machine's settings (loopback servers); change per deployment.
export DAGSTER_HOME="$(cd "$(dirname "${{BASH_SOURCE[0]}}")/.." && pwd)/.logflow/dagster"
export DAGSTER_POSTGRES_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/dagster
export LOGFLOW_CATALOG_URI=postgresql+psycopg2://postgres@127.0.0.1:5432/logflow
export LOGFLOW_WAREHOUSE=s3://lake/warehouse
export LOGFLOW_LANDING=s3://lake/landing/orders
export LOGFLOW_S3_ENDPOINT=http://127.0.0.1:8333
export AWS_ACCESS_KEY_ID=admin AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1
export LOGFLOW_CELERY_BROKER=amqp://guest:guest@127.0.0.1:5672//
export DAGSTER_DISABLE_TELEMETRY=1
"""

PROFILES = ("local", "distributed")


def starter_config(name: str) -> dict[str, Any]:
    """A one-source config: files landing in ``landing/`` become the table ``raw.<name>``,
    with a row-count check; paths are relative to the folder holding the config.

    Example:
        >>> starter_config("web-events")["sources"][0]["table"]
        'raw.web_events'
    """
    name = re.sub(r"\W", "_", name).strip("_").lower() or "events"
    table = f"raw.{name}"
    return {
        "project": name,
        "sources": [{"name": name, "landing": "landing", "table": table,
                     "error_policy": "quarantine"}],
        "checks": {table: [{"type": "row_count", "min": 1}]},
        "lineage": {"transport": "file", "path": ".logflow/openlineage.jsonl"},
    }


def dagster_home(root: Path) -> Path:
    """The project's DAGSTER_HOME (``.logflow/dagster``), created with telemetry off."""
    home = root / ".logflow" / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def init_project(root: Path, *, samples: bool = False, profile: str = "local") -> list[Path]:
    """Writes a project into ``root`` (existing files are kept); returns what it wrote.

    ``profile="distributed"`` writes the scale-out deployment (docs/deploy.md) instead of the
    embedded one: ``logflow.yaml`` on S3 + PostgreSQL with the Celery executor, the instance's
    ``dagster.yaml`` (PostgreSQL storage, a run queue limited per table) and ``deploy/``
    (``celery.yaml`` for the workers, ``env.sh``).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     written = [p.relative_to(tmp).as_posix() for p in init_project(Path(tmp))]
        ...     init_project(Path(tmp))  # a second run keeps every file: writes nothing
        []
        >>> {"definitions.py", "logflow.yaml", "quality/models.py"} <= set(written)
        True
    """
    if profile not in PROFILES:
        from .core.errors import UsageError

        raise UsageError(f"unknown profile {profile!r}; use one of: {', '.join(PROFILES)}")
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    name = root.resolve().name
    if profile == "distributed":
        home = root / ".logflow" / "dagster"
        for rel, text in (("logflow.yaml", DISTRIBUTED_LOGFLOW_YAML.format(name=name)),
                          ("definitions.py", DEFINITIONS_PY), ("workspace.yaml", WORKSPACE_YAML),
                          (".gitignore", GITIGNORE),
                          ("deploy/celery.yaml", DISTRIBUTED_CELERY_YAML),
                          ("deploy/env.sh", DISTRIBUTED_ENV_SH.format())):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text(text)
                written.append(path)
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "dagster.yaml").exists() or \
                (home / "dagster.yaml").read_text() == DAGSTER_YAML:
            (home / "dagster.yaml").write_text(DISTRIBUTED_DAGSTER_YAML)
            written.append(home / "dagster.yaml")
        return written
    files = (("logflow.yaml", LOGFLOW_YAML.format(name=name)),
             ("definitions.py", DEFINITIONS_PY), ("workspace.yaml", WORKSPACE_YAML),
             ("quality/__init__.py", ""), ("quality/models.py", QUALITY_MODELS_PY),
             ("quality/orders_suite.json", ORDERS_SUITE_JSON), *MODEL_FILES.items())
    (root / "quality").mkdir(exist_ok=True)
    (root / "models").mkdir(exist_ok=True)
    for name, text in files:
        path = root / name
        if not path.exists():
            path.write_text(text)
            written.append(path)
    for sub in ("csv", "jsonl", "xes"):
        (root / "landing" / sub).mkdir(parents=True, exist_ok=True)
    dagster_home(root)
    if samples:
        from .samples import events, write_csv, write_jsonl, write_xes

        evs = events()
        targets = {"csv": root / "landing/csv/orders.csv",
                   "jsonl": root / "landing/jsonl/orders.jsonl",
                   "xes": root / "landing/xes/orders.xes"}
        write_csv(targets["csv"], evs, bad_every=250, odd_region_every=400)
        write_jsonl(targets["jsonl"], evs)
        write_xes(targets["xes"], evs)
        written.extend(targets.values())
    return written
