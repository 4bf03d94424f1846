"""The floors: the least work any correct bridge does with the pages it fetched.

Over the very bytes the bridge received, one transaction per page, in a SQLite file set up as
the bridge's own:

* the *floor*: lxml parses the page and the raw events are inserted;
* the *floor with copies*: the same, and the ERP-facing copies the built-in handlers keep are
  upserted, newest event winning inside the statement, with one ``executemany`` per table: the
  order header, one row per order item, the customer. Each copy keeps its object whole (as the
  XML it came in, where the bridge keeps a JSON document) beside the columns an ERP reads.

``Floors`` does their pages beside the bridge's run (``bridge.bench.phases.Beside``): the
floor after each page the bridge fetches, the floor with copies after each batch it handles,
as many events as the batch, from the pages captured by then.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from bridge.bench.naive import open_sqlite
from bridge.bench.phases import captured_pages, page_events

_SCHEMA = (
    "CREATE TABLE orders (order_id TEXT PRIMARY KEY, ordernumber TEXT, status TEXT,"
    " currency TEXT, ordertotal TEXT, customer_id TEXT, data TEXT, event_seq INTEGER)",
    "CREATE TABLE order_lines (order_id TEXT, line_key TEXT, product_id TEXT, sku TEXT,"
    " qty TEXT, price TEXT, PRIMARY KEY (order_id, line_key))",
    "CREATE TABLE customers (customer_id TEXT PRIMARY KEY, email TEXT, firstname TEXT,"
    " lastname TEXT, country TEXT, data TEXT, event_seq INTEGER)",
)
_INSERT_EVENT = (
    "INSERT INTO events (event_id, type, payload) VALUES (?, ?, ?)"
    " ON CONFLICT (event_id) DO NOTHING"
)
_UPSERT_ORDER = (
    "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET"
    " ordernumber = excluded.ordernumber, status = excluded.status, currency = excluded.currency,"
    " ordertotal = excluded.ordertotal, customer_id = excluded.customer_id, data = excluded.data,"
    " event_seq = excluded.event_seq WHERE orders.event_seq <= excluded.event_seq"
)
_UPSERT_LINE = (
    "INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (order_id, line_key) DO UPDATE"
    " SET product_id = excluded.product_id, sku = excluded.sku, qty = excluded.qty,"
    " price = excluded.price"
)
_UPSERT_CUSTOMER = (
    "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (customer_id) DO UPDATE SET"
    " email = excluded.email, firstname = excluded.firstname, lastname = excluded.lastname,"
    " country = excluded.country, data = excluded.data, event_seq = excluded.event_seq"
    " WHERE customers.event_seq <= excluded.event_seq"
)


@dataclass(frozen=True, slots=True)
class FloorRun:
    """What the floor stored and what it cost (CPU)."""

    events: int
    cpu_s: float


@dataclass(frozen=True, slots=True)
class CopiesFloorRun:
    """What the floor with copies stored and what it cost (CPU, its own process)."""

    events: int
    orders: int
    order_lines: int
    customers: int
    cpu_s: float


@dataclass
class _Page:
    events: list[tuple[Any, ...]]
    orders: list[tuple[Any, ...]]
    lines: list[tuple[Any, ...]]
    customers: list[tuple[Any, ...]]


class Floors:
    """Both floors, a page at a time, into SQLite files of their own in ``folder``."""

    def __init__(self, capture: Path, folder: Path) -> None:
        self._capture = capture
        self._floor = open_sqlite(folder / "floor.db")
        self._copies = open_sqlite(folder / "copies-floor.db")
        for statement in _SCHEMA:
            self._copies.execute(statement)
        self._parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        self._pages: Iterator[bytes] | None = None
        self._floor_run = FloorRun(events=0, cpu_s=0.0)
        self._totals = {"events": 0, "orders": 0, "order_lines": 0, "customers": 0}
        self._copies_cpu_s = 0.0
        self._seq = 0

    def after_page(self, raw: bytes) -> None:
        """The floor: parse the page, insert its events."""
        started = time.process_time()
        rows = [
            (event[0].text, event[1].text, etree.tostring(event, encoding="unicode"))
            for event in page_events(etree.fromstring(raw, self._parser))
        ]
        self._floor.execute("BEGIN IMMEDIATE")
        self._floor.executemany(_INSERT_EVENT, rows)
        self._floor.execute("COMMIT")
        self._floor_run = FloorRun(
            events=self._floor_run.events + len(rows),
            cpu_s=self._floor_run.cpu_s + time.process_time() - started,
        )

    def after_batch(self, handled: int) -> None:
        """The floor with copies: captured pages until it has done as many events as the
        bridge's handlers (or none is left)."""
        while self._totals["events"] < handled:
            raw = next(self._captured(), None)
            if raw is None:
                return
            self._copies_page(raw)

    def finish(self) -> tuple[FloorRun, CopiesFloorRun]:
        """Do the pages the batches left over, close the files, and say what each cost."""
        for raw in self._captured():
            self._copies_page(raw)
        self._floor.close()
        self._copies.close()
        return self._floor_run, CopiesFloorRun(cpu_s=self._copies_cpu_s, **self._totals)

    def _captured(self) -> Iterator[bytes]:
        """The captured pages not done yet (read once the drain has written them all)."""
        if self._pages is None:
            self._pages = captured_pages(self._capture)
        return self._pages

    def _copies_page(self, raw: bytes) -> None:
        started = time.process_time()
        page = _read(etree.fromstring(raw, self._parser), self._seq)
        _write(self._copies, page)
        self._copies_cpu_s += time.process_time() - started
        self._seq += len(page.events)
        self._totals["events"] += len(page.events)
        self._totals["orders"] += len(page.orders)
        self._totals["order_lines"] += len(page.lines)
        self._totals["customers"] += len(page.customers)


def _read(envelope: etree._Element, seq: int) -> _Page:
    page = _Page([], [], [], [])
    for number, event in enumerate(page_events(envelope), start=seq + 1):
        event_id, event_type = event[0].text, event[1].text
        page.events.append((event_id, event_type, etree.tostring(event, encoding="unicode")))
        content = _content(event)
        if content is None:
            continue
        ns = content.tag[: content.tag.index("}") + 1]
        if event_type == "order":
            order_id = content.findtext(f"{ns}id")
            page.orders.append(
                (
                    order_id,
                    content.findtext(f"{ns}ordernumber"),
                    content.findtext(f"{ns}status"),
                    content.findtext(f"{ns}currency"),
                    content.findtext(f"{ns}ordertotal"),
                    content.findtext(f"{ns}customer/{ns}id"),
                    etree.tostring(content, encoding="unicode"),
                    number,
                )
            )
            page.lines += _lines(content, ns, order_id)
        elif event_type == "customer":
            page.customers.append(
                (
                    content.findtext(f"{ns}id"),
                    content.findtext(f"{ns}email"),
                    content.findtext(f"{ns}firstname"),
                    content.findtext(f"{ns}lastname"),
                    content.findtext(f"{ns}country"),
                    etree.tostring(content, encoding="unicode"),
                    number,
                )
            )
    return page


def _content(event: etree._Element) -> etree._Element | None:
    """The object inside the event's ``<data>``."""
    for child in event:
        if child.tag.endswith("}data") and len(child):
            return child[0]
    return None


def _lines(order: etree._Element, ns: str, order_id: str | None) -> Iterator[tuple[Any, ...]]:
    for product in order.iterfind(f"{ns}products/{ns}product"):
        for size in product.iterfind(f"{ns}sizes/{ns}size"):
            yield (
                order_id,
                size.findtext(f"{ns}orderitem/{ns}id"),
                product.findtext(f"{ns}id"),
                size.findtext(f"{ns}sku"),
                size.findtext(f"{ns}qty"),
                product.findtext(f"{ns}price"),
            )


def _write(db: sqlite3.Connection, page: _Page) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.executemany(_INSERT_EVENT, page.events)
    db.executemany(_UPSERT_ORDER, page.orders)
    db.executemany(_UPSERT_LINE, page.lines)
    db.executemany(_UPSERT_CUSTOMER, page.customers)
    db.execute("COMMIT")
