"""``python -m logflow_dagster.cli``: the ``logflow`` command."""

from logflow_dagster.cli import main

main()
