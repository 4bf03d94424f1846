"""The progress reporter: a line redrawn on a terminal, cumulative log lines elsewhere."""

from __future__ import annotations

import io

from structlog.testing import capture_logs

from bridge.cli.progress import Reporter, line


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_shows_phase_counts_share_and_rate() -> None:
    """Counts with the total and a share when it is known, and the rate per second."""
    assert line("handling events", 4200, 20000, 812.4) == (
        "handling events: 4,200 of 20,000 (21 %), 812/s"
    )
    assert line("fetching events", 300, None, None) == "fetching events: 300"


def test_on_a_terminal_the_line_is_redrawn_in_place_and_erased_at_the_end() -> None:
    """Each report rewrites the same line; a finished phase erases it for what follows."""
    stream, clock = io.StringIO(), Clock()
    reporter = Reporter(stream, terminal=True, clock=clock)
    reporter("handling events", 0, 200)
    clock.now += 2
    reporter("handling events", 100, 200)
    clock.now += 0.01
    reporter("handling events", 150, 200)  # too soon to redraw
    assert stream.getvalue().count("\r\x1b[K") == 2
    assert "\r\x1b[Khandling events: 100 of 200 (50 %), 50/s\r" in stream.getvalue()
    assert "150 of 200" not in stream.getvalue()
    reporter("handling events", 200, 200)
    assert stream.getvalue().endswith("\r\x1b[K")


def test_off_a_terminal_cumulative_counts_are_logged_every_few_seconds() -> None:
    """Nothing for quick work; then one log line per interval with the counts so far."""
    stream, clock = io.StringIO(), Clock()
    reporter = Reporter(stream, terminal=False, clock=clock, log_every_s=5)
    with capture_logs() as logs:
        for done in range(0, 1300, 100):
            reporter("fetching events", done)
            clock.now += 1
    assert stream.getvalue() == ""
    assert [(entry["event"], entry["done"]) for entry in logs] == [
        ("progress", 500),
        ("progress", 1000),
    ]
    assert logs[0]["phase"] == "fetching events" and logs[0]["per_s"] == 100.0
