"""Sensors over the landing locations."""

from .landing import build_landing_sensor, scan_landing

__all__ = ["build_landing_sensor", "scan_landing"]
