"""Fixtures for the contract suite: a running Centra double and clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from centra_double import FLAVORS, CentraDouble

if TYPE_CHECKING:
    from bridge.centra.soap.client import CentraClient

ClientFactory = Callable[..., "CentraClient"]


@pytest.fixture
def double() -> Iterator[CentraDouble]:
    """A fresh double per test, so queues and recordings never leak between tests."""
    server = CentraDouble().start()
    yield server
    server.stop()


@pytest.fixture(params=list(FLAVORS))
def flavor(request: pytest.FixtureRequest) -> str:
    """Each of the three documented endpoints."""
    return str(request.param)


@pytest.fixture
def make_client(double: CentraDouble, flavor: str) -> ClientFactory:
    """Build the project's CentraClient for ``flavor`` against the double."""

    def make(**overrides: Any) -> CentraClient:
        from bridge.centra.soap import client as centra_client
        from bridge.config import CentraSettings, Secret

        values: dict[str, Any] = {
            "endpoint": double.url(flavor),
            "username": double.username,
            "password": Secret(double.password),
            "flavor": flavor,
            "timeout_s": 5,
        }
        values.update(overrides)
        return centra_client.CentraClient(CentraSettings(**values))

    return make
