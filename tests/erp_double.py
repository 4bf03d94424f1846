"""Handlers a site could configure, used by the tests to see what was delivered and how often.

Each delivery is appended to the file named by ``CENTRA_BRIDGE_TEST_LEDGER``, so deliveries
made by a killed child process count too.
"""

from __future__ import annotations

import os
import time
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


#: With this set (to an order id), ``poison_order`` fails for that order only.
POISON_ENV = "CENTRA_BRIDGE_TEST_POISON"


def poison_order(session: Session, event: EventRecord) -> Outcome:
    """One order the ERP cannot take (until the site fixes it); every other order goes through."""
    if event.object_id == os.environ.get(POISON_ENV):
        raise ValueError(f"ERP cannot book order {event.object_id}: unknown VAT code")
    return handle_order(session, event)


#: A directory where ``file_order`` keeps one file per delivered event.
SINK_ENV = "CENTRA_BRIDGE_TEST_SINK"


def file_order(session: Session, event: EventRecord) -> Outcome:
    """Deliver like a file-import ERP: one file per event, written atomically, then counted.

    The file name carries the event id, so delivering again after a crash rewrites the same
    file: the effect happens once. Every call is also counted in the ledger, to see retries.
    """
    outcome = handle_order(session, event)
    sink = Path(os.environ[SINK_ENV])
    temporary = sink / f".{event.event_id}.tmp"
    temporary.write_text(event.xml, encoding="utf-8")
    temporary.replace(sink / f"order-{event.object_id}-{event.event_id}.xml")
    _record(event)
    return outcome


def die_on_poison(session: Session, event: EventRecord) -> Outcome:
    """The poison order kills the whole process, like a segfault or the OOM killer would."""
    if event.object_id == os.environ.get(POISON_ENV):
        os._exit(70)
    return handle_order(session, event)


#: Seconds ``slow_order`` takes per order.
SLOW_S = 0.02


def slow_order(session: Session, event: EventRecord) -> Outcome:
    """An ERP that takes its time over each order: counted in the ledger, then booked."""
    _record(event)
    time.sleep(SLOW_S)
    return handle_order(session, event)


#: While the file this names exists, ``flaky_order`` fails every order.
ERP_DOWN_ENV = "CENTRA_BRIDGE_TEST_ERP_DOWN"


def flaky_order(session: Session, event: EventRecord) -> Outcome:
    """An ERP that is down while a marker file exists, and takes orders again once it is gone."""
    if Path(os.environ[ERP_DOWN_ENV]).exists():
        raise ConnectionError(f"ERP refused order {event.object_id}: connection refused")
    return handle_order(session, event)


#: ``leaky_order`` quotes this variable's value in its error, as a careless ERP client might.
LEAK_ENV = "CENTRA_BRIDGE_TEST_LEAK"


def leaky_order(session: Session, event: EventRecord) -> Outcome:
    """An ERP client whose error message quotes a secret it was handed."""
    raise PermissionError(f"ERP refused order {event.object_id}: login {os.environ[LEAK_ENV]}")
