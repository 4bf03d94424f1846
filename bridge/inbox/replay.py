"""Replay: stored events run through the handlers again, without calling Centra.

For debugging an order that looks wrong in the ERP: fix the handler or the ERP, then replay
the events. A replay runs an event whatever its status; newest-wins keeps an older event
from rolling a copy back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bridge.clock import Progress, no_progress
from bridge.config import ConfigError
from bridge.inbox.dispatch import Dispatcher
from bridge.store import Store
from bridge.store import events as repo
from bridge.store.events import ReplaySelection


@dataclass(frozen=True, slots=True)
class Chosen:
    """One stored event a replay selected."""

    seq: int
    event_id: str
    type: str
    status: str


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay selected and, unless it only looked, what came of it."""

    chosen: list[Chosen]
    #: How many ended in each status.
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return self.counts["failed"] + self.counts["dead"]


def check_selection(selection: ReplaySelection) -> None:
    """ConfigError when the selection names no event at all (a replay of everything is
    never what a person meant)."""
    if selection.is_empty():
        raise ConfigError(
            "replay: say which events: EVENT_ID…, --type, --status, --since or --until"
        )


def choose(store: Store, selection: ReplaySelection) -> list[Chosen]:
    """The stored events ``selection`` names, in Centra's order.

    ConfigError when nothing is asked for, or an event id asked for is not stored.
    """
    check_selection(selection)
    with store.reading() as session:
        chosen = [
            Chosen(row.seq, row.event_id, row.type, row.status)
            for row in repo.select_for_replay(session, selection)
        ]
    missing = sorted(set(selection.event_ids) - {event.event_id for event in chosen})
    if missing:
        raise ConfigError(f"replay: no stored event with id {', '.join(missing)}")
    return chosen


def replay(
    store: Store,
    dispatcher: Dispatcher,
    selection: ReplaySelection,
    progress: Progress = no_progress,
) -> ReplayReport:
    """Run the selected events through their handlers again (``choose`` only lists them)."""
    chosen = choose(store, selection)
    counts = dispatcher.run((event.seq for event in chosen), replay=True, progress=progress)
    return ReplayReport(chosen, counts)
