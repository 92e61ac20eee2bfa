"""Authentication and table-level authorization as a Dagster resource (``logflow_auth``)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from ..auth import Authenticator, Authorizer, authenticator_for, authorizer_for
from ..config import ProjectConfig, load_config


class AuthResource(dg.ConfigurableResource):
    """Who may do what, from the project's ``auth:`` section (API keys, JWT, write roles).
    Subclass it and override :meth:`authorizer` (or :meth:`authenticator`) to plug in your
    own without touching the engine.

    Examples:
        .. code-block:: python

            class MyAuth(AuthResource):
                def authorizer(self):
                    return MyAuthorizer()          # any object with .allowed(...)

            resources = {**base.resources, "logflow_auth": MyAuth(project_dir=".")}
    """

    project_dir: str | None = Field(
        None, description="The project folder whose logflow.yaml configures auth (none: "
                          "nothing configured, anonymous local access).")

    def _config(self) -> ProjectConfig:
        if self.project_dir is None:
            return ProjectConfig()
        return load_config(f"{self.project_dir}/logflow.yaml")

    def authenticator(self) -> Authenticator:
        """The configured authenticator."""
        return authenticator_for(self._config())

    def authorizer(self) -> Authorizer:
        """The table-level authorizer (ingest, maintain, rollup builds)."""
        return authorizer_for(self._config())
