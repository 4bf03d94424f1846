"""The id map as the bridge uses it: the rules of ``id_rules`` applied to the stored rows.

The outbox translates a batch's ids and registers what went to Centra as-is; operators list,
set, remove, import and export mappings (``centra-bridge ids``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bridge.clock import utcnow
from bridge.errors import BridgeError, ExitCode
from bridge.outbox.entities import MAPPED_TYPES, check_entity_type
from bridge.outbox.id_rules import (
    Change,
    IdConflict,
    KnownIds,
    MappingFileError,
    parse_csv,
    plan_set,
    to_csv,
)
from bridge.store import Store
from bridge.store import idmap as repo
from bridge.store.idmap import Link, Origin


class NotMapped(BridgeError, LookupError):
    """``ids remove`` named an ERP id that has no mapping."""

    exit_code = ExitCode.CONFIG


def known_ids(session: Session, entity_type: str, ids: Collection[str]) -> KnownIds:
    """The mappings holding any of ``ids`` as ERP id or as Centra id, in one read."""
    by_erp, by_centra = repo.holding(session, entity_type, ids)
    return KnownIds(by_erp, by_centra)


def translate(session: Session, entity_type: str, erp_id: str) -> tuple[str, bool]:
    """The id to send for ``erp_id``, and whether a mapping gave it (False: sent as-is).

    IdConflict when sending an unmapped id as-is would address another object.
    """
    return known_ids(session, entity_type, [erp_id]).translate(erp_id)


def set_mapping(
    session: Session, link: Link, now: datetime, known: KnownIds | None = None
) -> Change:
    """Record ``link``; IdConflict if either of its ids belongs to someone else."""
    assert link.erp_id is not None
    if known is None:
        known = known_ids(session, link.entity_type, [link.erp_id, link.centra_id])
    change = plan_set(
        known.by_erp.get(link.erp_id),
        known.by_centra.get(link.centra_id),
        link.erp_id,
        link.centra_id,
    )
    if change is Change.INSERT:
        repo.add(session, [link], now)
    elif change is Change.LINK:
        repo.link(session, [link], now)
    return change


def register_sent(
    session: Session, entity_type: str, erp_ids: Collection[str], now: datetime
) -> None:
    """Unmapped ERP ids went to Centra as-is: Centra now knows those objects by these ids.

    A conflict that arose while the call was out (someone mapped an id meanwhile) is left
    for that mapping to win; the push itself already happened and is recorded.
    """
    known = known_ids(session, entity_type, erp_ids)
    new: list[Link] = []
    linked: list[Link] = []
    for erp_id in dict.fromkeys(erp_ids):
        try:
            change = known.plan_sent_as_is(erp_id)
        except IdConflict:
            continue
        sent = Link(entity_type, erp_id, erp_id, Origin.ERP)
        if change is Change.INSERT:
            new.append(sent)
        elif change is Change.LINK:
            linked.append(sent)
    repo.add(session, new, now)
    repo.link(session, linked, now)


def listing(store: Store, entity_type: str | None = None) -> list[Link]:
    with store.reading() as session:
        return repo.all_links(session, entity_type)


def find(store: Store, some_id: str) -> list[Link]:
    """The mappings holding ``some_id`` as ERP id or as Centra id, of every mapped type."""
    found: list[Link] = []
    with store.reading() as session:
        for entity_type in MAPPED_TYPES:
            by_erp, by_centra = repo.holding(session, entity_type, [some_id])
            found += list(dict.fromkeys([*by_erp.values(), *by_centra.values()]))
    return found


def set_link(store: Store, entity_type: str, erp_id: str, centra_id: str) -> Change:
    """Map ``erp_id`` to ``centra_id`` by hand; IdConflict if either id is taken."""
    check_entity_type(entity_type)
    with store.transaction() as session:
        return set_mapping(session, Link(entity_type, erp_id, centra_id, Origin.MANUAL), utcnow())


def remove(store: Store, entity_type: str, erp_id: str) -> Link:
    """Forget the mapping of ``erp_id``; NotMapped when there is none."""
    check_entity_type(entity_type)
    with store.transaction() as session:
        removed = repo.remove(session, entity_type, erp_id)
    if removed is None:
        raise NotMapped(f"{entity_type} ERP id {erp_id} is not mapped")
    return removed


def import_csv(store: Store, path: Path) -> Counter[str]:
    """Every row of the file, in one transaction: one conflict and nothing is imported."""
    try:
        rows = parse_csv(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise MappingFileError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise MappingFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    counts: Counter[str] = Counter()
    now = utcnow()
    with store.transaction() as session:
        for number, row in enumerate(rows, start=2):
            try:
                counts[_import_row(session, row, now)] += 1
            except IdConflict as exc:
                raise IdConflict(f"{path}: row {number}: {exc}; nothing imported") from None
    return counts


def _import_row(session: Session, row: Link, now: datetime) -> str:
    if row.erp_id is None:
        added = repo.register_centra(session, row.entity_type, row.centra_id, now)
        return "added" if added else "unchanged"
    change = set_mapping(session, row, now)
    return {Change.INSERT: "added", Change.LINK: "linked"}.get(change, "unchanged")


def export_csv(store: Store, entity_type: str | None = None) -> str:
    return to_csv(listing(store, entity_type))
