"""Authentication and authorization as a Dagster resource (policies plug in later)."""

from typing import Literal

import dagster as dg
from pydantic import Field

from ..auth import AllowAll, Anonymous, ApiKeys, Authenticator, Authorizer


class AuthResource(dg.ConfigurableResource):
    """Who may read what: ``none`` (anonymous, allow all) or ``api_keys`` (from
    ``LOGFLOW_API_KEYS``); the semantic layer adds row/column policies through
    :class:`~logflow_dagster.auth.Authorizer`.

    Examples:
        .. code-block:: python

            resources = {**base.resources,
                         "logflow_auth": AuthResource(authentication="api_keys")}
    """

    authentication: Literal["none", "api_keys"] = Field("none", description="none or api_keys.")

    def authenticator(self) -> Authenticator:
        """The configured authenticator."""
        return ApiKeys() if self.authentication == "api_keys" else Anonymous()

    def authorizer(self) -> Authorizer:
        """The authorizer (allow-all until policies are configured)."""
        return AllowAll()
