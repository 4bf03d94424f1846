"""``centra-bridge run``: the service (scheduler jobs, signals, sd_notify, health, metrics)."""

from bridge.daemon.service import run

__all__ = ["run"]
