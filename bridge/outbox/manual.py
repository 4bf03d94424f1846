"""What a person does to stuck ERP updates by hand: send them again, or set them aside.

Neither sends anything: ``retry`` makes records due (attempts reset) and the service's next
push sends them in order with everything else. Who did it and when is kept on each record
(``note``) and logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from bridge.config import ConfigError
from bridge.store import Store, lookups
from bridge.store import outbox as repo
from bridge.store.lookups import NotStored

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Requeued:
    """What ``outbox retry`` did: records made due, and those left as they were because a
    newer record for the same object exists (sending them would put older data over newer)."""

    due: int
    kept: int


def retry_records(
    store: Store,
    by: str,
    now: datetime,
    *,
    record_ids: Sequence[int] = (),
    status: str | None = None,
) -> Requeued:
    """Make the named records, or every record in ``status``, due again.

    All or nothing for ids: NotStored for an id not in the outbox, ConfigError for a record
    in a status that is not retried (a sent or queued one).
    """
    if bool(record_ids) == (status is not None):
        raise ConfigError("outbox retry: name the records (ID…) or give --status, not both")
    if status is not None and status not in repo.RETRIABLE:
        raise ConfigError(f"outbox retry --status: one of {', '.join(repo.RETRIABLE)}")
    note = f"retried by {by} at {now.isoformat(timespec='seconds')}"
    statuses: Sequence[str] = repo.RETRIABLE if status is None else (status,)
    with store.transaction() as session:
        if record_ids:
            found = lookups.outbox_statuses(session, record_ids)
            _check(found, record_ids, repo.RETRIABLE, "retried")
            asked = len(set(record_ids))
        else:
            asked = lookups.list_outbox(session, statuses=statuses, limit=1).total
        due = repo.requeue(session, statuses, now, record_ids, note)
    log.info(
        "outbox records made due again by hand",
        user=by,
        count=due,
        status=status,
        ids=list(record_ids) or None,
    )
    return Requeued(due=due, kept=asked - due)


def skip_records(
    store: Store, record_ids: Sequence[int], reason: str, by: str, now: datetime
) -> int:
    """Set the named records aside with ``reason``: never sent (until a retry)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ConfigError("outbox skip: --reason must say why (it is kept with the records)")
    if not record_ids:
        raise ConfigError("outbox skip: name the records (ID…)")
    note = f"skipped by {by} at {now.isoformat(timespec='seconds')}: {reason}"
    with store.transaction() as session:
        _check(lookups.outbox_statuses(session, record_ids), record_ids, repo.SKIPPABLE, "skipped")
        changed = repo.mark_skipped(session, record_ids, note)
    log.info(
        "outbox records skipped by hand",
        user=by,
        count=changed,
        reason=reason,
        ids=list(record_ids),
    )
    return changed


def _check(
    found: dict[int, str], record_ids: Sequence[int], allowed: Sequence[str], verb: str
) -> None:
    missing = [f"#{record_id}" for record_id in record_ids if record_id not in found]
    if missing:
        raise NotStored(f"no outbox record {', '.join(missing)}")
    wrong = [f"#{i} is {found[i]}" for i in record_ids if found[i] not in allowed]
    if wrong:
        raise ConfigError(f"only {', '.join(allowed)} records are {verb}: {'; '.join(wrong)}")
