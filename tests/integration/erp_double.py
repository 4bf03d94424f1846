"""Handlers a site could configure, used by the tests to see what was delivered and how often.

Each delivery is appended to the file named by ``CENTRA_BRIDGE_TEST_LEDGER``, so deliveries
made by a killed child process count too.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.orm import Session

from bridge.handlers.base import EventRecord, Outcome
from bridge.handlers.order import handle_order

LEDGER_ENV = "CENTRA_BRIDGE_TEST_LEDGER"


def _record(event: EventRecord) -> None:
    with Path(os.environ[LEDGER_ENV]).open("a", encoding="utf-8") as ledger:
        ledger.write(f"{event.event_id}\n")


def deliver_order(session: Session, event: EventRecord) -> Outcome:
    """Keep the local copy, then write the delivery to the ledger."""
    outcome = handle_order(session, event)
    _record(event)
    return outcome


def reject_order(session: Session, event: EventRecord) -> None:
    """An ERP that is down: every order fails."""
    raise ConnectionError(f"ERP refused order {event.object_id}: connection refused")


def deliveries(ledger: Path) -> list[str]:
    return ledger.read_text(encoding="utf-8").split() if ledger.exists() else []
