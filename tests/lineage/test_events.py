"""OpenLineage events of an ingest run, written by the file transport and read back.

openlineage-python 1.54 ships no spec JSON files (no ``OpenLineage.json`` or ``*Facet.json`` in
site-packages), so events are validated structurally: every line is rebuilt into the library's
``event_v2``/``facet_v2`` attrs classes (their validators check the UUID run id and the ISO
event time; unknown or missing fields raise), re-serialized with ``Serde`` and compared with the
line, and the spec's required top-level keys are asserted.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import os
import subprocess
import sys
import types
import typing
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attr
import pytest
from openlineage.client import facet_v2
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import BaseFacet
from openlineage.client.serde import Serde

from logflow_dagster.config import LineageConfig, ProjectConfig
from logflow_dagster.core.convert import convert
from logflow_dagster.core.errors import UsageError
from logflow_dagster.core.result import IngestResult
from logflow_dagster.lineage import (
    PRODUCER,
    IngestEventBuilder,
    LineageEmitter,
    file_dataset,
    iceberg_namespace,
    new_run_id,
    run_id_for,
)
from logflow_dagster.lineage.naming import redact_uri

CSV = (
    "id,name,amount\n"
    "1,alpha,1.5\n"
    "2,beta,\n"
    "3,,3.25\n"
    "4,delta,4.0,EXTRA\n"  # wrong field count: quarantined
    "5,eps,oops\n"  # not a double: quarantined
    "6,zeta,-2\n"
)
JOB = "raw.orders"
ASSERTIONS = [("not_null", True, "id"), ("unique", True, "id"), ("row_count", False, None)]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ambient OpenLineage config: no env switches, no openlineage.yml, no git in cwd."""
    for name in ("OPENLINEAGE_DISABLED", "OPENLINEAGE_CONFIG", "OPENLINEAGE_URL",
                 "OPENLINEAGE_API_KEY", "LOGFLOW_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    for name in [k for k in os.environ if k.startswith("OPENLINEAGE__")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ingested(tmp_path: Path) -> IngestResult:
    """A real conversion (profile, columns, quarantine) with the fields an Iceberg ingest adds."""
    src = tmp_path / "landing" / "orders.csv"
    src.parent.mkdir()
    src.write_text(CSV, encoding="utf-8")
    result = convert(src, tmp_path / "out" / "orders.parquet", error_policy="quarantine",
                     schema={"amount": "double"})
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (6, 4, 2)
    return dataclasses.replace(result, table=JOB, snapshot_id=4_211_977_123_456_789,
                               data_files=[f"{tmp_path}/wh/raw.db/orders/data/a.parquet"])


def _emitter(tmp_path: Path, **config: Any) -> LineageEmitter:
    return LineageEmitter(LineageConfig(**config), tmp_path, warehouse="s3://lake/warehouse")


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _emit_all(em: LineageEmitter, result: IngestResult) -> str:
    run_id = run_id_for("dagster-run-1", JOB, "orders.csv")
    em.start(run_id, JOB, result.input, table=JOB)
    em.complete(run_id, JOB, result, ASSERTIONS)
    try:
        raise RuntimeError("catalog commit conflict")
    except RuntimeError as err:
        em.fail(run_id, JOB, result.input, err, table=JOB)
    return run_id


# -- structural validation against the library's attrs classes ------------------------------

def _facet_classes() -> dict[str, type[BaseFacet]]:
    """Every facet class of facet_v2, by its schema URL."""
    classes: dict[str, type[BaseFacet]] = {}
    for module in vars(facet_v2).values():
        if isinstance(module, types.ModuleType):
            for obj in vars(module).values():
                if inspect.isclass(obj) and issubclass(obj, BaseFacet) and obj is not BaseFacet:
                    classes[obj._get_schema()] = obj
    return classes


FACETS = _facet_classes()


def _rebuild(cls: type, data: dict[str, Any]) -> Any:
    """``cls(**data)``, rebuilding nested attrs values from their declared types."""
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for a in attr.fields(cls):
        key, arg = a.name, a.alias
        if key in ("_producer", "_schemaURL"):
            continue
        if key not in data:
            continue
        kwargs[arg] = _convert(hints[key], data[key])
    unknown = set(data) - {a.name for a in attr.fields(cls)}
    assert not unknown, f"{cls.__name__}: fields not in the spec class: {unknown}"
    if "_producer" in data:
        kwargs["producer"] = data["_producer"]
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return _convert(args[0], value)
    if origin is list and args and attr.has(args[0]):
        return [_rebuild(args[0], v) for v in value]
    if origin is dict and len(args) == 2 and attr.has(args[1]):
        return {k: _rebuild(args[1], v) for k, v in value.items()}
    if attr.has(hint):
        return _rebuild(hint, value)
    return value


def _rebuild_facets(facets: dict[str, Any]) -> dict[str, Any]:
    rebuilt = {}
    for key, facet in facets.items():
        assert set(facet) >= {"_producer", "_schemaURL"}, key
        cls = FACETS[facet["_schemaURL"]]  # KeyError: a facet the library does not know
        rebuilt[key] = _rebuild(cls, facet)
    return rebuilt


def _validate(line: dict[str, Any]) -> None:
    """Rebuild ``line`` from the event_v2/facet_v2 classes and compare the serialization."""
    for key in ("eventType", "eventTime", "run", "job", "producer", "schemaURL"):
        assert key in line, key
    assert {"runId"} <= set(line["run"]) and {"namespace", "name"} <= set(line["job"])
    assert set(line) <= {"eventType", "eventTime", "run", "job", "inputs", "outputs",
                         "producer", "schemaURL"}
    event = RunEvent(
        eventType=RunState(line["eventType"]),
        eventTime=line["eventTime"],
        run=Run(runId=line["run"]["runId"], facets=_rebuild_facets(line["run"].get("facets", {}))),
        job=Job(namespace=line["job"]["namespace"], name=line["job"]["name"],
                facets=_rebuild_facets(line["job"].get("facets", {}))),
        inputs=[_rebuild_dataset(InputDataset, d) for d in line.get("inputs", [])],
        outputs=[_rebuild_dataset(OutputDataset, d) for d in line.get("outputs", [])],
        producer=line["producer"],
    )
    assert event.schemaURL == line["schemaURL"]
    assert Serde.to_dict(event) == line


def _rebuild_dataset(cls: type, data: dict[str, Any]) -> Any:
    extra_key = "inputFacets" if cls is InputDataset else "outputFacets"
    assert set(data) <= {"namespace", "name", "facets", extra_key}, set(data)
    return cls(namespace=data["namespace"], name=data["name"],
               facets=_rebuild_facets(data.get("facets", {})),
               **{extra_key: _rebuild_facets(data.get(extra_key, {}))})


# -- tests --------------------------------------------------------------------------------

def test_file_transport_writes_start_complete_fail(tmp_path: Path,
                                                   ingested: IngestResult) -> None:
    em = _emitter(tmp_path, path="lineage/events.jsonl")
    assert em.path == tmp_path / "lineage" / "events.jsonl"
    assert not em.path.exists()  # created on first use
    run_id = _emit_all(em, ingested)

    start, complete, fail = _lines(em.path)
    assert [e["eventType"] for e in (start, complete, fail)] == ["START", "COMPLETE", "FAIL"]
    assert {e["run"]["runId"] for e in (start, complete, fail)} == {run_id}
    for event in (start, complete, fail):
        assert event["job"] == {**event["job"], "namespace": "logflow", "name": JOB}
        assert event["producer"] == PRODUCER
        assert event["schemaURL"].startswith("https://openlineage.io/spec/")
        assert event["schemaURL"].endswith("/OpenLineage.json#/$defs/RunEvent")
        when = datetime.fromisoformat(event["eventTime"])
        assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - when).total_seconds()) < 60
        assert event["inputs"][0]["namespace"] == "file"
        assert event["inputs"][0]["name"] == str(tmp_path / "landing" / "orders.csv")
        table = event["outputs"][0]
        assert (table["namespace"], table["name"]) == ("iceberg://lake/warehouse", JOB)
        assert table["facets"]["catalog"]["framework"] == "iceberg"
        assert table["facets"]["catalog"]["warehouseUri"] == "s3://lake/warehouse"
    assert fail["run"]["facets"]["errorMessage"]["message"] == (
        "RuntimeError: catalog commit conflict")
    assert "catalog commit conflict" in fail["run"]["facets"]["errorMessage"]["stackTrace"]
    assert "errorMessage" not in complete["run"]["facets"]


def test_complete_carries_the_ingest_result(tmp_path: Path, ingested: IngestResult) -> None:
    em = _emitter(tmp_path)
    _emit_all(em, ingested)
    complete = _lines(tmp_path / ".logflow" / "openlineage.jsonl")[1]

    inp = complete["inputs"][0]["inputFacets"]["inputStatistics"]
    assert (inp["rowCount"], inp["size"]) == (6, ingested.bytes_read)

    table, quarantine = complete["outputs"]
    facets = table["facets"]
    assert [(f["name"], f["type"]) for f in facets["schema"]["fields"]] == [
        ("id", "int64"), ("name", "string"), ("amount", "double")]
    assert [(f["name"], f["type"]) for f in facets["schema"]["fields"]] == [
        (c["name"], c["type"]) for c in ingested.columns]
    assert facets["version"]["datasetVersion"] == "4211977123456789"
    assert table["outputFacets"]["outputStatistics"] == {
        **table["outputFacets"]["outputStatistics"], "rowCount": 4, "fileCount": 1}

    metrics = facets["dataQualityMetrics"]
    assert metrics["rowCount"] == 4 == ingested.profile["rows"]
    assert metrics["captureDate"] == complete["eventTime"]
    cols = metrics["columnMetrics"]
    profile = {c["name"]: c for c in ingested.profile["columns"]}
    for name, m in cols.items():
        assert m["nullCount"] == profile[name]["nulls"]
        assert m["distinctCount"] == profile[name]["distinct"]
        assert m["count"] == profile[name]["count"] - profile[name]["nulls"]
    assert (cols["id"]["min"], cols["id"]["max"]) == (1, 6)
    assert (cols["amount"]["min"], cols["amount"]["max"]) == (-2.0, 3.25)
    assert (cols["amount"]["nullCount"], cols["name"]["nullCount"]) == (1, 1)
    assert "min" not in cols["name"] and "max" not in cols["name"]  # text bounds: not numbers

    assertions = facets["dataQualityAssertions"]["assertions"]
    assert [(a["assertion"], a["success"], a.get("column")) for a in assertions] == ASSERTIONS

    assert quarantine["namespace"] == "file"
    assert quarantine["name"] == str(Path(ingested.quarantine).resolve())
    assert quarantine["outputFacets"]["outputStatistics"]["rowCount"] == 2


def test_every_event_is_structurally_valid(tmp_path: Path, ingested: IngestResult) -> None:
    em = _emitter(tmp_path)
    _emit_all(em, ingested)
    lines = _lines(em.path)  # type: ignore[arg-type]
    assert len(lines) == 3
    for line in lines:
        _validate(line)
    facet_keys = set(lines[1]["outputs"][0]["facets"]) | set(lines[1]["outputs"][0]["outputFacets"])
    assert facet_keys >= {"schema", "version", "dataQualityMetrics", "dataQualityAssertions",
                          "catalog", "outputStatistics"}


def test_validation_rejects_a_broken_event(tmp_path: Path, ingested: IngestResult) -> None:
    em = _emitter(tmp_path)
    _emit_all(em, ingested)
    complete = _lines(em.path)[1]  # type: ignore[arg-type]
    broken = json.loads(json.dumps(complete))
    broken["run"]["runId"] = "not-a-uuid"
    with pytest.raises(ValueError):
        _validate(broken)
    broken = json.loads(json.dumps(complete))
    del broken["outputs"][0]["facets"]["version"]["datasetVersion"]
    with pytest.raises(TypeError):
        _validate(broken)
    broken = json.loads(json.dumps(complete))
    broken["outputs"][0]["facets"]["schema"]["fields"][0]["colour"] = "red"
    with pytest.raises(AssertionError):
        _validate(broken)


def test_plain_convert_output_is_a_file_dataset(tmp_path: Path, ingested: IngestResult) -> None:
    result = dataclasses.replace(ingested, table=None, snapshot_id=None, data_files=[])
    event = IngestEventBuilder(root=tmp_path).complete(new_run_id(), "convert", result)
    out = event["outputs"][0]
    assert (out["namespace"], out["name"]) == ("file", str(Path(result.output).resolve()))
    assert set(out["facets"]) == {"schema", "dataQualityMetrics"}
    _validate(json.loads(json.dumps(event)))


def test_transport_off_emits_nothing(tmp_path: Path, ingested: IngestResult) -> None:
    em = _emitter(tmp_path, transport="off")
    assert not em.enabled and em.path is None
    _emit_all(em, ingested)
    assert em.emit(em.events.start(new_run_id(), JOB, "a.csv")) is False
    assert not (tmp_path / ".logflow").exists()
    assert [p.name for p in tmp_path.rglob("*.jsonl")] == ["orders.quarantine.jsonl"]
    with pytest.raises(UsageError):
        _ = em.transport


def test_openlineage_disabled_env(tmp_path: Path, ingested: IngestResult,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    em = _emitter(tmp_path)
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    assert not em.enabled
    _emit_all(em, ingested)
    assert em.path is not None and not em.path.exists()
    assert not (tmp_path / ".logflow").exists()
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "false")
    assert em.emit(em.events.start(new_run_id(), JOB, "a.csv")) is True
    assert len(_lines(em.path)) == 1


def test_emit_failure_is_logged_not_raised(tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "taken").mkdir()  # the events path is a folder: not writable as a file
    em = _emitter(tmp_path, path="taken")
    event = em.events.start(new_run_id(), JOB, "a.csv")
    with caplog.at_level(logging.WARNING, logger="logflow_dagster.lineage"):
        assert em.emit(event) is False
    assert "START event for raw.orders not emitted" in caplog.text
    strict = LineageEmitter(LineageConfig(path="taken"), tmp_path, raise_errors=True)
    with pytest.raises(OSError, match="taken"):
        strict.emit(event)


def test_console_and_http_transports(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    console = _emitter(tmp_path, transport="console")
    with caplog.at_level(logging.INFO, logger="openlineage.client.transport.console"):
        assert console.emit(console.events.start(new_run_id(), JOB, "a.csv"))
    record = next(r for r in caplog.records if r.name == "openlineage.client.transport.console")
    assert json.loads(record.getMessage())["eventType"] == "START"

    with pytest.raises(UsageError, match=r"lineage\.url"):
        _emitter(tmp_path, transport="http")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "k-123")
    http = _emitter(tmp_path, transport="http", url="http://127.0.0.1:9/")
    transport = http.transport  # built, nothing sent
    assert transport.kind == "http"
    assert transport.url == "http://127.0.0.1:9/"  # type: ignore[attr-defined]
    assert transport.config.auth.get_bearer() == "Bearer k-123"  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []


def test_from_project_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = ProjectConfig.model_validate({
        "root": str(tmp_path), "catalog": {"kind": "rest", "warehouse": "s3://k:s@lake/wh/"},
        "lineage": {"namespace": "acme", "path": "ol/events.jsonl"}})
    em = LineageEmitter.from_config(cfg)
    assert em.path == tmp_path / "ol" / "events.jsonl"
    assert em.events.namespace == "acme"
    assert em.events.table_namespace == "iceberg://lake/wh"
    assert em.events.table_dataset(JOB)["facets"]["catalog"]["warehouseUri"] == "s3://lake/wh/"
    assert em.events.table_dataset(JOB)["facets"]["catalog"]["type"] == "rest"

    embedded = LineageEmitter.from_config(ProjectConfig(root=str(tmp_path)))
    assert embedded.events.table_namespace == f"iceberg://{tmp_path}/.logflow/warehouse"
    monkeypatch.setenv("LOGFLOW_WAREHOUSE", "gs://other/wh")
    assert LineageEmitter.from_config(ProjectConfig(root=str(tmp_path))).events.table_namespace \
        == "iceberg://other/wh"


def test_dataset_naming() -> None:
    assert file_dataset("landing/a.csv", "/srv/p") == ("file", "/srv/p/landing/a.csv")
    assert file_dataset("/srv/p/../q/a.csv") == ("file", "/srv/q/a.csv")
    assert file_dataset("file:///srv/p/a%20b.csv") == ("file", "/srv/p/a b.csv")
    assert file_dataset("s3a://user:secret@bucket/in/a.csv") == ("s3://bucket", "in/a.csv")
    assert file_dataset("gs://bucket/a.csv") == ("gs://bucket", "a.csv")
    assert iceberg_namespace("file:///srv/p/wh/") == "iceberg:///srv/p/wh"
    assert iceberg_namespace("s3://lake/wh") == "iceberg://lake/wh"
    assert redact_uri("https://u:p@host/x") == "https://host/x"


def test_run_ids() -> None:
    a = run_id_for("run-1", JOB, "p1")
    assert a == run_id_for("run-1", JOB, "p1") != run_id_for("run-1", JOB, "p2")
    assert uuid.UUID(a).version == 5
    assert uuid.UUID(new_run_id()) != uuid.UUID(new_run_id())
    with pytest.raises(ValueError):
        IngestEventBuilder().start("not-a-uuid", JOB, "a.csv")


_WRITER = """
import sys
from logflow_dagster.config import LineageConfig
from logflow_dagster.core.result import IngestResult
from logflow_dagster.lineage import LineageEmitter, new_run_id
em = LineageEmitter(LineageConfig(path="events.jsonl"), sys.argv[1], raise_errors=True)
cols = [{"name": f"column_{i:04d}_" + "x" * 40, "type": "string"} for i in range(400)]
for _ in range(15):
    r = IngestResult(input="a.csv", output="raw.t", format="csv", table="raw.t", columns=cols)
    em.complete(new_run_id(), sys.argv[2], r)
"""


def test_parallel_processes_append_whole_lines(tmp_path: Path) -> None:
    """Four processes appending 40 KB events to one file (the multiprocess executor) never
    interleave: every line is one whole event."""
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), f"job{i}"])
             for i in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    raw = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert min(len(line) for line in raw) > 32_000  # each event is larger than any buffer
    events = [json.loads(line) for line in raw]
    assert len(events) == 60
    assert sorted({e["job"]["name"] for e in events}) == ["job0", "job1", "job2", "job3"]


def test_lineage_imports_neither_dagster_nor_openlineage(tmp_path: Path) -> None:
    """Building and writing events (the file transport, the default) imports no
    openlineage-python: its ~0.5 s import stays off every ingest."""
    code = ("import sys\n"
            "from logflow_dagster.config import LineageConfig\n"
            "from logflow_dagster.lineage import LineageEmitter, new_run_id\n"
            "em = LineageEmitter(LineageConfig(path='e.jsonl'), sys.argv[1], raise_errors=True)\n"
            "em.start(new_run_id(), 'raw.t', 'a.csv', table='raw.t')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout
    loaded = set(json.loads(out.replace("'", '"')))
    assert "logflow_dagster" in loaded
    assert not loaded & {"openlineage", "dagster", "pyiceberg", "pyarrow", "duckdb", "pandas"}, \
        loaded & {"openlineage", "dagster", "pyiceberg", "pyarrow", "duckdb", "pandas"}
    (line,) = _lines(tmp_path / "e.jsonl")
    _validate(line)


def test_schema_urls_are_the_pinned_librarys() -> None:
    """Every facet URL :mod:`logflow_dagster.lineage.spec` writes is the one the pinned
    openlineage-python's class of that name carries (a library bump that moves a facet to a new
    spec version fails here), and so is the event's."""
    from logflow_dagster.lineage import spec

    by_name = {url.rsplit("/", 1)[-1]: url for url in FACETS}
    for kind in spec.FACET_VERSIONS:
        assert spec.facet_schema_url(kind) == by_name[kind], kind
    assert RunEvent(
        eventType=RunState.START, eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=new_run_id()), job=Job(namespace="n", name="j"),
        producer=PRODUCER).schemaURL == spec.EVENT_SCHEMA_URL
