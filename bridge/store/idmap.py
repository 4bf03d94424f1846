"""Id-map transitions, one function each, in the caller's transaction; rules: ``bridge.idmap``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, union_all, update
from sqlalchemy.orm import Session

from bridge.idmap import Change, IdConflict, KnownIds, Link, Origin, plan_set
from bridge.store.models import IdMapping

_MAP = IdMapping.__table__
#: Ids per IN list when a batch's mappings are read.
_IN_CHUNK = 500
#: The mappings holding any of ``ids`` as ERP id or as Centra id: two lookups, each on its
#: unique index, in one statement (an OR would let SQLite scan every mapping of the type).
_HOLDING = union_all(
    *(
        select(_MAP.c.erp_id, _MAP.c.centra_id, _MAP.c.origin).where(
            _MAP.c.entity_type == bindparam("entity_type"),
            column.in_(bindparam("ids", expanding=True)),
        )
        for column in (_MAP.c.erp_id, _MAP.c.centra_id)
    )
)


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
        session.add(
            IdMapping(
                entity_type=entity_type,
                erp_id=erp_id,
                centra_id=centra_id,
                origin=origin,
                created_at=now,
                updated_at=now,
            )
        )
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


def known_ids(session: Session, entity_type: str, ids: Collection[str]) -> KnownIds:
    """The mappings holding any of ``ids`` as ERP id or as Centra id, in one read."""
    wanted = list(dict.fromkeys(ids))
    by_erp: dict[str, Link] = {}
    by_centra: dict[str, Link] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = set(wanted[start : start + _IN_CHUNK])
        for row in session.execute(_HOLDING, {"entity_type": entity_type, "ids": list(chunk)}):
            link = Link(entity_type, row.erp_id, row.centra_id, row.origin)
            if row.erp_id in chunk:
                by_erp[row.erp_id] = link
            if row.centra_id in chunk:
                by_centra[row.centra_id] = link
    return KnownIds(by_erp, by_centra)


def translate(session: Session, entity_type: str, erp_id: str) -> tuple[str, bool]:
    """The id to send for ``erp_id``, and whether a mapping gave it (False: sent as-is).

    IdConflict when sending an unmapped id as-is would address another object.
    """
    return known_ids(session, entity_type, [erp_id]).translate(erp_id)


def register_sent(
    session: Session, entity_type: str, erp_ids: Collection[str], now: datetime
) -> None:
    """Unmapped ERP ids went to Centra as-is: Centra now knows those objects by these ids.

    A conflict that arose while the call was out (someone mapped an id meanwhile) is left
    for that mapping to win; the push itself already happened and is recorded.
    """
    known = known_ids(session, entity_type, erp_ids)
    new: list[dict[str, Any]] = []
    linked: list[dict[str, Any]] = []
    for erp_id in dict.fromkeys(erp_ids):
        try:
            change = known.plan_sent_as_is(erp_id)
        except IdConflict:
            continue
        if change is Change.INSERT:
            new.append(
                {
                    "entity_type": entity_type,
                    "erp_id": erp_id,
                    "centra_id": erp_id,
                    "origin": Origin.ERP,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif change is Change.LINK:
            linked.append({"the_centra_id": erp_id})
    if new:
        session.execute(insert(_MAP), new)
    if linked:
        session.execute(
            update(_MAP)
            .where(
                _MAP.c.entity_type == entity_type,
                _MAP.c.erp_id.is_(None),
                _MAP.c.centra_id == bindparam("the_centra_id"),
            )
            .values(erp_id=_MAP.c.centra_id, origin=Origin.ERP, updated_at=now),
            linked,
        )


def register_centra(session: Session, entity_type: str, centra_id: str, now: datetime) -> bool:
    """A Centra event named ``centra_id``: keep it so an ERP id can be linked to it later.

    Returns True when the id was new to the map.
    """
    if _by_centra(session, entity_type, centra_id) is not None:
        return False
    session.add(
        IdMapping(
            entity_type=entity_type,
            erp_id=None,
            centra_id=centra_id,
            origin=Origin.CENTRA,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return True


def all_links(session: Session, entity_type: str | None = None) -> list[Link]:
    query = select(IdMapping).order_by(IdMapping.entity_type, IdMapping.id)
    if entity_type is not None:
        query = query.where(IdMapping.entity_type == entity_type)
    return [link for row in session.scalars(query) if (link := _link(row)) is not None]
