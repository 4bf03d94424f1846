"""``centra-bridge ids``: the id map as people manage it (list, set, remove, CSV in and out)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from bridge.handlers.base import utcnow
from bridge.idmap import Change, IdConflict, Link, Origin, check_entity_type, parse_csv, to_csv
from bridge.store import Store
from bridge.store import idmap as repo


def listing(store: Store, entity_type: str | None = None) -> list[Link]:
    with store.transaction() as session:
        return repo.all_links(session, entity_type)


def as_rows(links: list[Link]) -> list[dict[str, Any]]:
    return [
        {
            "entity_type": link.entity_type,
            "erp_id": link.erp_id,
            "centra_id": link.centra_id,
            "origin": link.origin,
        }
        for link in links
    ]


def render(links: list[Link]) -> str:
    """A table for people; a Centra id without ERP id shows ``-``."""
    if not links:
        return "no mappings"
    lines = [f"{'type':<10} {'erp id':<24} {'centra id':<24} origin"]
    lines += [
        f"{link.entity_type:<10} {link.erp_id or '-':<24} {link.centra_id:<24} {link.origin}"
        for link in links
    ]
    return "\n".join(lines)


def set_link(store: Store, entity_type: str, erp_id: str, centra_id: str) -> Change:
    """Map ``erp_id`` to ``centra_id`` by hand; IdConflict if either id is taken."""
    check_entity_type(entity_type)
    with store.transaction() as session:
        return repo.set_mapping(session, entity_type, erp_id, centra_id, Origin.MANUAL, utcnow())


def remove(store: Store, entity_type: str, erp_id: str) -> Link:
    """Forget the mapping of ``erp_id``; LookupError when there is none."""
    check_entity_type(entity_type)
    with store.transaction() as session:
        removed = repo.remove(session, entity_type, erp_id)
    if removed is None:
        raise LookupError(f"{entity_type} ERP id {erp_id} is not mapped")
    return removed


def import_csv(store: Store, path: Path) -> Counter[str]:
    """Every row of the file, in one transaction: one conflict and nothing is imported."""
    try:
        rows = parse_csv(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    counts: Counter[str] = Counter()
    now = utcnow()
    with store.transaction() as session:
        for number, row in enumerate(rows, start=2):
            try:
                counts[_import_row(session, row, now)] += 1
            except IdConflict as exc:
                raise IdConflict(f"{path}: row {number}: {exc}; nothing imported") from None
    return counts


def _import_row(session: Any, row: Link, now: Any) -> str:
    if row.erp_id is None:
        return (
            "added"
            if repo.register_centra(session, row.entity_type, row.centra_id, now)
            else "unchanged"
        )
    change = repo.set_mapping(session, row.entity_type, row.erp_id, row.centra_id, row.origin, now)
    return {Change.INSERT: "added", Change.LINK: "linked"}.get(change, "unchanged")


def export_csv(store: Store, entity_type: str | None = None) -> str:
    return to_csv(listing(store, entity_type))
