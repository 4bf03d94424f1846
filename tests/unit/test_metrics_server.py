"""The metrics server over real HTTP on loopback: GET, HEAD, other paths, stopping."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.daemon.metrics import Metrics
from bridge.daemon.metrics_server import MetricsServer


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def server(metrics: Metrics) -> Iterator[MetricsServer]:
    running = MetricsServer(metrics.registry, "127.0.0.1", 0).start()
    yield running
    running.stop()


Answer = tuple[int, dict[str, str], bytes]


def request(server: MetricsServer, method: str = "GET", path: str = "/metrics") -> Answer:
    """Status, headers and body of one real HTTP request."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request(method, path)
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def test_get_serves_the_registry(server: MetricsServer, metrics: Metrics) -> None:
    """GET /metrics answers the text format, which prometheus_client's parser reads."""
    metrics.events_fetched.labels(type="order").inc(1_000_001)
    status, headers, body = request(server)
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }
    assert values["centra_bridge_events_fetched_total"] == 1_000_001


def test_head_answers_headers_without_a_body(server: MetricsServer) -> None:
    """HEAD /metrics is 200 with GET's content type and a length, and no body."""
    status, headers, body = request(server, "HEAD")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert int(headers["Content-Length"]) > 0
    assert body == b""


@pytest.mark.parametrize("path", ["/", "/metric", "/metrics/extra", "/favicon.ico"])
def test_other_paths_are_not_found(server: MetricsServer, path: str) -> None:
    """Only /metrics is served, so a wrong scrape path fails instead of looking fine."""
    status, _, body = request(server, path=path)
    assert status == 404
    assert b"/metrics" in body


def test_stop_frees_the_port(metrics: Metrics) -> None:
    """After stop, the port is closed: nothing answers there any more."""
    server = MetricsServer(metrics.registry, "127.0.0.1", 0).start()
    assert request(server)[0] == 200
    server.stop()
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", server.port))
