"""What a person does to stuck events by hand: send them back to the handlers, or set them aside.

Neither runs a handler: ``retry`` makes events due again (attempts reset), and the service's
next dispatch handles them, with its hooks, sinks and locks, as for any event. Who did it and
when is kept on each event (``note``) and logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from bridge.config import ConfigError
from bridge.store import Store
from bridge.store import events as repo
from bridge.store.lookups import NotStored

log = structlog.get_logger(__name__)

#: Ids listed in a log line; a retry of a whole status logs the count only.
_IDS_LOGGED = 20


def retry_events(
    store: Store,
    by: str,
    now: datetime,
    *,
    event_ids: Sequence[str] = (),
    status: str | None = None,
) -> int:
    """Make the named events, or every event in ``status``, due again; how many changed.

    All or nothing for ids: NotStored for an id not stored, ConfigError for an event in a
    status that is not retried (a handled one is replayed instead).
    """
    if bool(event_ids) == (status is not None):
        raise ConfigError("events retry: name the events (EVENT_ID…) or give --status, not both")
    if status is not None and status not in repo.RETRIABLE:
        raise ConfigError(f"events retry --status: one of {', '.join(repo.RETRIABLE)}")
    note = f"retried by {by} at {_moment(now)}"
    with store.transaction() as session:
        if event_ids:
            _check(repo.statuses_of(session, event_ids), event_ids, repo.RETRIABLE, "retried")
        changed = repo.make_due(session, note, event_ids=event_ids, status=status)
    log.info(
        "events made due again by hand",
        user=by,
        count=changed,
        status=status,
        event_ids=list(event_ids[:_IDS_LOGGED]) or None,
    )
    return changed


def skip_events(store: Store, event_ids: Sequence[str], reason: str, by: str, now: datetime) -> int:
    """Set the named events aside with ``reason``: no handler runs them again (until a retry
    or a replay); how many changed. All or nothing, as for ``retry_events``."""
    reason = " ".join(reason.split())
    if not reason:
        raise ConfigError("events skip: --reason must say why (it is kept with the events)")
    if not event_ids:
        raise ConfigError("events skip: name the events (EVENT_ID…)")
    note = f"skipped by {by} at {_moment(now)}: {reason}"
    with store.transaction() as session:
        _check(repo.statuses_of(session, event_ids), event_ids, repo.SKIPPABLE, "skipped")
        changed = repo.mark_skipped(session, event_ids, note, now)
    log.info(
        "events skipped by hand",
        user=by,
        count=changed,
        reason=reason,
        event_ids=list(event_ids[:_IDS_LOGGED]),
    )
    return changed


def _check(
    found: dict[str, str], event_ids: Sequence[str], allowed: Sequence[str], verb: str
) -> None:
    missing = [event_id for event_id in event_ids if event_id not in found]
    if missing:
        raise NotStored(f"no stored event with id {', '.join(missing)}")
    wrong = [
        f"{event_id} is {found[event_id]}"
        for event_id in event_ids
        if found[event_id] not in allowed
    ]
    if wrong:
        raise ConfigError(
            f"only {', '.join(allowed)} events are {verb}: {'; '.join(wrong)}"
            + (" (replay runs any event again)" if verb == "retried" else "")
        )


def _moment(now: datetime) -> str:
    return now.isoformat(timespec="seconds")
