"""Where decoded rows go: the Parquet sink (and the base the lakehouse sink builds on)."""
