"""Prometheus text exposition: counters, labelled gauges, summaries, escaping."""

from __future__ import annotations

import pytest

from bridge.daemon.metrics import Metrics


def test_render_counters_gauges_and_summary() -> None:
    """Each family has HELP and TYPE; samples carry sorted labels; a summary has sum and count."""
    metrics = Metrics()
    metrics.inc("centra_bridge_events_fetched_total", 100)
    metrics.inc("centra_bridge_polls_total", result="ok")
    metrics.inc("centra_bridge_polls_total", result="ok")
    metrics.replace("centra_bridge_events", {(("status", "failed"), ("type", "order")): 2})
    metrics.observe("centra_bridge_poll_duration_seconds", 0.5)
    metrics.observe("centra_bridge_poll_duration_seconds", 1.0)
    text = metrics.render()
    assert "# TYPE centra_bridge_events_fetched_total counter" in text
    assert "centra_bridge_events_fetched_total 100\n" in text
    assert 'centra_bridge_polls_total{result="ok"} 2\n' in text
    assert 'centra_bridge_events{status="failed",type="order"} 2\n' in text
    assert "centra_bridge_poll_duration_seconds_sum 1.5\n" in text
    assert "centra_bridge_poll_duration_seconds_count 2\n" in text


def test_label_values_are_escaped() -> None:
    """Quotes, backslashes and newlines in a label value cannot break the format."""
    metrics = Metrics()
    metrics.inc("centra_bridge_polls_total", result='a"b\\c\nd')
    assert 'result="a\\"b\\\\c\\nd"' in metrics.render()


def test_unknown_metric_is_refused() -> None:
    """A misspelt name fails at once instead of silently exporting nothing."""
    with pytest.raises(KeyError):
        Metrics().inc("centra_bridge_typo_total")
