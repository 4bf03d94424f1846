"""The id-mapping rules, pure: which ERP id is which Centra id, and what counts as a conflict.

A mapping links one ERP id to one Centra id per entity type, in both directions. A Centra id
learnt from a customer event before the ERP knows the customer has no ERP id yet (``erp_id``
None); linking it later fills the ERP id in. Anything else that would give one id two partners
is a conflict and is refused: the table is the bridge's memory of who is who, and a silent
overwrite would send one customer's data to another.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bridge.errors import BridgeError, ExitCode
from bridge.outbox.entities import check_entity_type
from bridge.store.idmap import Link, Origin

CSV_HEADER = ("entity_type", "erp_id", "centra_id", "origin")


class IdConflict(BridgeError):
    """A mapping would give an id a second partner; the message says which and what to do."""

    exit_code = ExitCode.CONFIG


class MappingFileError(BridgeError, ValueError):
    """An ``ids import`` file has bad rows; one line per problem, nothing is imported."""

    exit_code = ExitCode.CONFIG

    def details(self) -> list[str]:
        return str(self).splitlines()[:-1]

    def summary(self) -> str:
        return str(self).splitlines()[-1]


class Change(StrEnum):
    """What setting a mapping amounts to."""

    UNCHANGED = "unchanged"
    INSERT = "insert"
    #: Fill the ERP id into a Centra-known mapping that had none.
    LINK = "link"


def plan_set(by_erp: Link | None, by_centra: Link | None, erp_id: str, centra_id: str) -> Change:
    """How to record ``erp_id`` ↔ ``centra_id`` given the mappings that hold either id now.

    Raises IdConflict when either id already belongs to someone else.
    """
    if by_erp is not None and by_erp.centra_id != centra_id:
        raise IdConflict(
            f"{by_erp.entity_type} ERP id {erp_id} is already mapped to Centra id "
            f"{by_erp.centra_id} ({by_erp.origin}); remove that mapping first "
            f"(centra-bridge ids remove {by_erp.entity_type} {erp_id})"
        )
    if by_erp is not None:
        return Change.UNCHANGED
    if by_centra is None:
        return Change.INSERT
    if by_centra.erp_id is None:
        return Change.LINK
    raise IdConflict(
        f"{by_centra.entity_type} Centra id {centra_id} is already mapped to ERP id "
        f"{by_centra.erp_id} ({by_centra.origin}); remove that mapping first "
        f"(centra-bridge ids remove {by_centra.entity_type} {by_centra.erp_id})"
    )


def centra_id_for(by_erp: Link | None, by_centra_same: Link | None, erp_id: str) -> str:
    """The id to send for ``erp_id``: its mapping's Centra id, or the ERP id itself.

    ``by_centra_same`` is the mapping holding ``erp_id`` as a Centra id, if any: sending an
    unmapped ERP id that is some other object's Centra id would overwrite that object.
    """
    if by_erp is not None:
        return by_erp.centra_id
    if by_centra_same is not None and by_centra_same.erp_id != erp_id:
        owner = (
            f"belongs to ERP id {by_centra_same.erp_id}"
            if by_centra_same.erp_id is not None
            else "is an object Centra created (seen in its events)"
        )
        raise IdConflict(
            f"{by_centra_same.entity_type} ERP id {erp_id} is not mapped, and Centra id "
            f"{erp_id} {owner}; sending it as-is would overwrite that object. Map it: "
            f"centra-bridge ids set {by_centra_same.entity_type} {erp_id} CENTRA_ID"
        )
    return erp_id


@dataclass(frozen=True, slots=True)
class KnownIds:
    """The mappings holding some ids, by ERP id and by Centra id: what a batch needs, read once."""

    by_erp: dict[str, Link]
    by_centra: dict[str, Link]

    def translate(self, erp_id: str) -> tuple[str, bool]:
        """The id to send for ``erp_id`` and whether a mapping gave it (see ``centra_id_for``)."""
        by_erp = self.by_erp.get(erp_id)
        same = None if by_erp is not None else self.by_centra.get(erp_id)
        return centra_id_for(by_erp, same, erp_id), by_erp is not None

    def plan_sent_as_is(self, erp_id: str) -> Change:
        """How to record that ``erp_id`` went to Centra unmapped (IdConflict if it cannot be)."""
        return plan_set(self.by_erp.get(erp_id), self.by_centra.get(erp_id), erp_id, erp_id)


def parse_csv(text: str, source: str) -> list[Link]:
    """Rows of an ``ids import`` file; MappingFileError naming ``file:line`` per bad row.

    Columns: entity_type, erp_id, centra_id and optionally origin (default manual). Two rows
    giving one id two partners are refused here, before the database is asked.
    """
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    missing = [name for name in CSV_HEADER[:3] if name not in (reader.fieldnames or [])]
    if missing:
        raise MappingFileError(
            f"{source}:1: header must name {', '.join(CSV_HEADER[:3])}; "
            f"missing {', '.join(missing)}"
        )
    rows: list[Link] = []
    problems: list[str] = []
    for row in reader:
        where = f"{source}:{reader.line_num}"
        try:
            rows.append(_row(row))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    problems += _duplicates(rows)
    if problems:
        raise MappingFileError("\n".join(problems))
    return rows


def _row(row: dict[str, str | None]) -> Link:
    values = {key: (row.get(key) or "").strip() for key in CSV_HEADER}
    check_entity_type(values["entity_type"])
    origin = values["origin"] or Origin.MANUAL
    if origin not in set(Origin):
        raise ValueError(f"origin must be one of {', '.join(Origin)}, got {origin!r}")
    if not values["centra_id"]:
        raise ValueError("centra_id must not be empty")
    if not values["erp_id"] and origin != Origin.CENTRA:
        raise ValueError("erp_id must not be empty (only origin centra rows may lack one)")
    return Link(values["entity_type"], values["erp_id"] or None, values["centra_id"], origin)


def _duplicates(rows: list[Link]) -> list[str]:
    problems: list[str] = []
    seen_erp: dict[tuple[str, str | None], str] = {}
    seen_centra: dict[tuple[str, str], str | None] = {}
    for row in rows:
        erp_key, centra_key = (row.entity_type, row.erp_id), (row.entity_type, row.centra_id)
        if row.erp_id is not None and seen_erp.get(erp_key, row.centra_id) != row.centra_id:
            problems.append(
                f"{row.entity_type} ERP id {row.erp_id} is given two Centra ids "
                f"({seen_erp[erp_key]}, {row.centra_id})"
            )
        if seen_centra.get(centra_key, row.erp_id) != row.erp_id:
            problems.append(
                f"{row.entity_type} Centra id {row.centra_id} is given two ERP ids "
                f"({seen_centra[centra_key]}, {row.erp_id})"
            )
        seen_erp[erp_key], seen_centra[centra_key] = row.centra_id, row.erp_id
    return problems


def to_csv(mappings: Iterable[Link]) -> str:
    """The mappings as an ``ids import`` file (unlinked Centra ids have an empty erp_id)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for mapping in mappings:
        writer.writerow(
            (mapping.entity_type, mapping.erp_id or "", mapping.centra_id, mapping.origin)
        )
    return out.getvalue()
