"""logflow-dagster."""
