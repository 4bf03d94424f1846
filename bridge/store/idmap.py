"""Id-map transitions, one function each, in the caller's transaction; rules: ``bridge.idmap``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.idmap import Change, IdConflict, Link, Origin, centra_id_for, plan_set
from bridge.store.models import IdMapping


def _link(row: IdMapping | None) -> Link | None:
    return None if row is None else Link(row.entity_type, row.erp_id, row.centra_id, row.origin)


def _by_erp(session: Session, entity_type: str, erp_id: str) -> IdMapping | None:
    return session.scalars(
        select(IdMapping).where(IdMapping.entity_type == entity_type, IdMapping.erp_id == erp_id)
    ).first()


def _by_centra(session: Session, entity_type: str, centra_id: str) -> IdMapping | None:
    return session.scalars(
        select(IdMapping).where(
            IdMapping.entity_type == entity_type, IdMapping.centra_id == centra_id
        )
    ).first()


def set_mapping(
    session: Session, entity_type: str, erp_id: str, centra_id: str, origin: str, now: datetime
) -> Change:
    """Record ``erp_id`` ↔ ``centra_id``; IdConflict if either id belongs to someone else."""
    by_erp = _by_erp(session, entity_type, erp_id)
    by_centra = _by_centra(session, entity_type, centra_id)
    change = plan_set(_link(by_erp), _link(by_centra), erp_id, centra_id)
    if change is Change.INSERT:
        session.add(IdMapping(entity_type=entity_type, erp_id=erp_id, centra_id=centra_id,
                              origin=origin, created_at=now, updated_at=now))
    elif change is Change.LINK:
        assert by_centra is not None
        by_centra.erp_id, by_centra.origin, by_centra.updated_at = erp_id, origin, now
    session.flush()
    return change


def remove(session: Session, entity_type: str, erp_id: str) -> Link | None:
    """Forget the mapping of ``erp_id``; returns what it was (None if there was none)."""
    row = _by_erp(session, entity_type, erp_id)
    if row is not None:
        session.delete(row)
        session.flush()
    return _link(row)


def translate(session: Session, entity_type: str, erp_id: str) -> tuple[str, bool]:
    """The id to send for ``erp_id``, and whether a mapping gave it (False: sent as-is).

    IdConflict when sending an unmapped id as-is would address another object.
    """
    by_erp = _by_erp(session, entity_type, erp_id)
    same = None if by_erp is not None else _by_centra(session, entity_type, erp_id)
    return centra_id_for(_link(by_erp), _link(same), erp_id), by_erp is not None


def register_sent(session: Session, entity_type: str, erp_id: str, now: datetime) -> None:
    """An unmapped ERP id went to Centra as-is: Centra now knows the object by that id.

    A conflict that arose while the call was out (someone mapped the id meanwhile) is left
    for that mapping to win; the push itself already happened and is recorded.
    """
    if _by_erp(session, entity_type, erp_id) is not None:
        return
    try:
        set_mapping(session, entity_type, erp_id, erp_id, Origin.ERP, now)
    except IdConflict:
        return


def register_centra(session: Session, entity_type: str, centra_id: str, now: datetime) -> bool:
    """A Centra event named ``centra_id``: keep it so an ERP id can be linked to it later.

    Returns True when the id was new to the map.
    """
    if _by_centra(session, entity_type, centra_id) is not None:
        return False
    session.add(IdMapping(entity_type=entity_type, erp_id=None, centra_id=centra_id,
                          origin=Origin.CENTRA, created_at=now, updated_at=now))
    session.flush()
    return True


def all_links(session: Session, entity_type: str | None = None) -> list[Link]:
    query = select(IdMapping).order_by(IdMapping.entity_type, IdMapping.id)
    if entity_type is not None:
        query = query.where(IdMapping.entity_type == entity_type)
    return [link for row in session.scalars(query) if (link := _link(row)) is not None]
