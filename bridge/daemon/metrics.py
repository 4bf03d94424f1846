"""Prometheus text exposition on a loopback port, from the standard library alone.

Counters live in the process (they restart at zero, which Prometheus' ``rate()`` expects);
gauges about the store are refreshed by the daemon's health job, so a scrape never touches
the database.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: name → (type, help). Only these names can be set, so a typo fails at once in tests.
FAMILIES: dict[str, tuple[str, str]] = {
    "centra_bridge_events_fetched_total": ("counter", "Events received from events_Get."),
    "centra_bridge_events_acknowledged_total": ("counter", "Events confirmed with events_Done."),
    "centra_bridge_handler_outcomes_total": ("counter", "Handler results by final status."),
    "centra_bridge_polls_total": ("counter", "Poll attempts by result."),
    "centra_bridge_poll_duration_seconds": ("summary", "Duration of polls that reached Centra."),
    "centra_bridge_last_poll_success_timestamp_seconds": (
        "gauge",
        "Unix time of the last poll that stored and acknowledged a page.",
    ),
    "centra_bridge_events": ("gauge", "Stored events by type and status."),
    "centra_bridge_events_unacknowledged": ("gauge", "Stored events not yet acknowledged."),
    "centra_bridge_outbox": ("gauge", "Outbox records (pushes to Centra) by status."),
    "centra_bridge_events_pruned_total": ("counter", "Finished events removed by housekeeping."),
    "centra_bridge_pushes_total": ("counter", "Push runs (drop directory, then outbox) by result."),
    "centra_bridge_outbox_records_total": ("counter", "Outbox records pushed, by result."),
}

Labels = tuple[tuple[str, str], ...]


class Metrics:
    """Thread-safe samples, rendered in the Prometheus text format (version 0.0.4)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: dict[str, dict[Labels, float]] = {name: {} for name in FAMILIES}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = _labels(labels)
        with self._lock:
            family = self._samples[name]
            family[key] = family.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            self._samples[name][_labels(labels)] = value

    def replace(self, name: str, values: Mapping[Labels, float]) -> None:
        """Swap a whole gauge family at once (statuses that vanished must vanish here too)."""
        with self._lock:
            self._samples[name] = dict(values)

    def observe(self, name: str, seconds: float) -> None:
        with self._lock:
            family = self._samples[name]
            family[(("", "sum"),)] = family.get((("", "sum"),), 0.0) + seconds
            family[(("", "count"),)] = family.get((("", "count"),), 0.0) + 1

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._samples[name].get(_labels(labels), 0.0)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            for name, (kind, text) in FAMILIES.items():
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
                samples = sorted(self._samples[name].items())
                lines += [_sample(name, key, value) for key, value in samples]
        return "\n".join(lines) + "\n"


def _labels(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))


def _sample(name: str, key: Labels, value: float) -> str:
    if key and key[0][0] == "":  # a summary's _sum or _count
        return f"{name}_{key[0][1]} {value:g}"
    if not key:
        return f"{name} {value:g}"
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
    return f"{name}{{{body}}} {value:g}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class MetricsServer:
    """``GET /metrics`` on its own thread; anything else is 404."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        handler = type("Handler", (_Handler,), {"metrics": metrics})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    metrics: Metrics

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404)
            return
        body = self.metrics.render().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # scrapes every few seconds would drown the log
