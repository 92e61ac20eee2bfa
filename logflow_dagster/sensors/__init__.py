"""Sensors: one per source over its landing location (see :mod:`.landing`)."""

from .landing import build_landing_sensor

__all__ = ["build_landing_sensor"]
