"""This repository's ready-to-run Dagster project: `dagster dev` (workspace.yaml points here)."""

from pathlib import Path

from logflow_dagster import build_definitions, load_config

defs = build_definitions(load_config(Path(__file__).parent / "logflow.yaml"))
