"""Object storage as a Dagster resource: local folders, S3-compatible stores, any fsspec URI."""

import dagster as dg
from pydantic import Field

from ..lakehouse.storage import ObjectStorage


class ObjectStorageResource(dg.ConfigurableResource):
    """Files addressed by URI (``file:///srv/landing``, ``s3://bucket/prefix``).

    Examples:
        .. code-block:: python

            import dagster as dg
            from logflow_dagster.resources import ObjectStorageResource

            @dg.asset
            def landing_inventory(storage: ObjectStorageResource) -> int:
                return len(storage.storage().list(storage.root))

            defs = dg.Definitions(assets=[landing_inventory], resources={
                "storage": ObjectStorageResource(root="s3://bucket/landing",
                                                 properties={"s3.endpoint": "http://minio:9000"})})
    """

    root: str = Field(description="Root URI (file:///abs/path, s3://bucket/prefix).")
    properties: dict[str, str] = Field(default_factory=dict,
                                       description="pyiceberg-style s3.* properties.")

    def storage(self) -> ObjectStorage:
        """The storage client for ``root``."""
        return ObjectStorage(self.root, self.properties)
