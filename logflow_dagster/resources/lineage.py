"""OpenLineage as a Dagster resource: swap the transport in Definitions(resources=...)."""

from typing import Literal

import dagster as dg
from pydantic import Field

from ..config import LineageConfig
from ..lineage import LineageEmitter


class OpenLineageResource(dg.ConfigurableResource):
    """Where the ingest assets send their OpenLineage events.

    Examples:
        .. code-block:: python

            from logflow_dagster import build_definitions, load_config
            from logflow_dagster.resources import OpenLineageResource

            base = build_definitions(load_config("logflow.yaml"))
            defs = dg.Definitions(
                assets=base.assets, sensors=base.sensors, schedules=base.schedules,
                resources={**base.resources, "logflow_lineage": OpenLineageResource(
                    transport="http", url="http://marquez:5000")})  # or transport="off"
    """

    transport: Literal["file", "http", "console", "off"] = Field(
        "file", description="file (JSON lines), http, console or off.")
    path: str = Field(".logflow/openlineage.jsonl", description="File transport target.")
    url: str | None = Field(None, description="HTTP transport endpoint.")
    namespace: str = Field("logflow", description="OpenLineage job namespace.")

    def emitter(self, root: str, warehouse: str | None) -> LineageEmitter:
        """An emitter for a project folder and warehouse."""
        config = LineageConfig(transport=self.transport, path=self.path, url=self.url,
                               namespace=self.namespace)
        return LineageEmitter.from_config(config, root, warehouse=warehouse)
