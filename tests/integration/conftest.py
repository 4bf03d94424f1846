"""Fixtures the daemon tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_harness import NotifySocket


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    """The service manager's notify socket for a daemon under test, closed afterwards."""
    socket_ = NotifySocket(tmp_path)
    yield socket_
    socket_.close()
