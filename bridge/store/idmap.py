"""The id map's rows: reads and writes in the caller's transaction; the rules that decide
what may be written are the outbox's (``bridge.outbox.id_rules``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, func, insert, select, union_all, update
from sqlalchemy.orm import Session

from bridge.store.models import IdMapping, table_of

_MAP = table_of(IdMapping)
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
_LINK_BY_CENTRA_ID = (
    update(_MAP)
    .where(
        _MAP.c.entity_type == bindparam("the_entity_type"),
        _MAP.c.erp_id.is_(None),
        _MAP.c.centra_id == bindparam("the_centra_id"),
    )
    .values(
        erp_id=bindparam("the_erp_id"),
        origin=bindparam("the_origin"),
        updated_at=bindparam("the_now"),
    )
)


class Origin(StrEnum):
    """Who made a mapping known."""

    #: Sent to Centra unmapped, so Centra knows the object under the ERP's id.
    ERP = "erp"
    #: Seen in a Centra event; waits for its ERP id.
    CENTRA = "centra"
    #: Set by a person (``ids set`` / ``ids import``).
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Link:
    """One row of the id map as plain data."""

    entity_type: str
    erp_id: str | None
    centra_id: str
    origin: str


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


def holding(
    session: Session, entity_type: str, ids: Collection[str]
) -> tuple[dict[str, Link], dict[str, Link]]:
    """The mappings holding any of ``ids``, by ERP id and by Centra id, in one read per 500."""
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
    return by_erp, by_centra


def add(session: Session, links: Collection[Link], now: datetime) -> None:
    """Insert new mappings in one statement."""
    if links:
        session.execute(
            insert(_MAP),
            [
                {
                    "entity_type": link.entity_type,
                    "erp_id": link.erp_id,
                    "centra_id": link.centra_id,
                    "origin": link.origin,
                    "created_at": now,
                    "updated_at": now,
                }
                for link in links
            ],
        )


def link(session: Session, links: Collection[Link], now: datetime) -> None:
    """Fill the ERP id into mappings known by their Centra id only, in one statement."""
    if links:
        session.execute(
            _LINK_BY_CENTRA_ID,
            [
                {
                    "the_entity_type": link.entity_type,
                    "the_centra_id": link.centra_id,
                    "the_erp_id": link.erp_id,
                    "the_origin": link.origin,
                    "the_now": now,
                }
                for link in links
            ],
        )


def remove(session: Session, entity_type: str, erp_id: str) -> Link | None:
    """Forget the mapping of ``erp_id``; returns what it was (None if there was none)."""
    row = _by_erp(session, entity_type, erp_id)
    if row is not None:
        session.delete(row)
        session.flush()
    return _link(row)


def register_centra(session: Session, entity_type: str, centra_id: str, now: datetime) -> bool:
    """A Centra event named ``centra_id``: keep it so an ERP id can be linked to it later.

    Returns True when the id was new to the map.
    """
    if _by_centra(session, entity_type, centra_id) is not None:
        return False
    add(session, [Link(entity_type, None, centra_id, Origin.CENTRA)], now)
    return True


def all_links(session: Session, entity_type: str | None = None) -> list[Link]:
    query = select(IdMapping).order_by(IdMapping.entity_type, IdMapping.id)
    if entity_type is not None:
        query = query.where(IdMapping.entity_type == entity_type)
    return [link for row in session.scalars(query) if (link := _link(row)) is not None]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(IdMapping)) or 0


def register_centra_many(
    session: Session, entity_type: str, centra_ids: Collection[str], now: datetime
) -> None:
    """``register_centra`` for a batch of events: one read per 500 ids, one insert."""
    wanted = list(dict.fromkeys(centra_ids))
    known: set[str] = set()
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        known.update(
            session.scalars(
                select(_MAP.c.centra_id).where(
                    _MAP.c.entity_type == entity_type, _MAP.c.centra_id.in_(chunk)
                )
            )
        )
    add(
        session,
        [
            Link(entity_type, None, centra_id, Origin.CENTRA)
            for centra_id in wanted
            if centra_id not in known
        ],
        now,
    )
