"""Seeded, realistic Centra event streams: orders over their life, customers, and the master-data
kinds a bridge ignores. Pure: no I/O, no clock but its own."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bridge.simulator.catalog import (
    ACCOUNTS,
    MARKETS,
    PAYMENT_TERMS,
    PLACES,
    RETAIL_MARKETS,
    SALESREPS,
    SHIPPING_TERMS,
    SIZETABLES,
    WAREHOUSES,
    WHOLESALE_MARKET,
    Sequences,
    SimClock,
)
from bridge.simulator.masterdata import (
    Account,
    Person,
    account_payload,
    customer_payload,
    market_payload,
    moved,
    new_person,
    pricelist_payload,
    salesrep_payload,
    size_payload,
    warehouse_payload,
)
from bridge.simulator.orders import (
    Order,
    Shipment,
    advance,
    invoice_payload,
    new_retail_order,
    new_wholesale_order,
    order_payload,
)
from bridge.simulator.soap import Payload

#: Where simulated time starts; fixed so a seed always gives the same dates.
DEFAULT_START = datetime(2024, 9, 2, 8, 0, 0)

#: Relative weight of each step in the mix; orders dominate, as in a live shop.
STEP_WEIGHTS: dict[str, int] = {
    "retail_order": 28,
    "wholesale_order": 6,
    "order_follow_up": 30,
    "customer_change": 5,
    "invoice": 4,
    "warehouse": 3,
    "pricelist": 3,
    "account": 3,
    "market": 2,
    "size": 3,
    "salesrep": 2,
    "delete": 3,
}
#: Open orders are followed up only once this many exist, so a life spreads over the stream.
_MIN_OPEN_ORDERS = 3


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    """One event before it is queued: its kind, Centra id of the object, mission and payload."""

    type: str
    entry: str
    mission: str
    date: str
    payload: Payload


class Generator:
    """Produces a reproducible stream of events for one simulated Centra instance."""

    def __init__(
        self, seed: int = 1, start: datetime = DEFAULT_START, *, event_dates: str = "plain"
    ) -> None:
        self.rng = random.Random(seed)
        self.clock = SimClock(start, event_dates=event_dates)
        self.ids = Sequences()
        self._customers: list[Person] = []
        self._accounts = [self._account(account_id, company) for account_id, company in ACCOUNTS]
        self._open: list[Order] = []
        #: Every order generated, by number, until an update claims it (see ``claim``).
        self._orders: dict[str, Order] = {}
        self._to_invoice: deque[tuple[Order, Shipment]] = deque()
        self._internal_ids: dict[tuple[str, str], str] = {}
        self._ready: deque[GeneratedEvent] = deque()
        self._steps: dict[str, Callable[[], None]] = {
            "retail_order": self._retail_order,
            "wholesale_order": self._wholesale_order,
            "order_follow_up": self._order_follow_up,
            "customer_change": self._customer_change,
            "invoice": self._invoice,
            "warehouse": self._warehouse,
            "pricelist": self._pricelist,
            "account": self._account_event,
            "market": self._market,
            "size": self._size,
            "salesrep": self._salesrep,
            "delete": self._delete,
        }

    def generate(self, count: int) -> list[GeneratedEvent]:
        """The next ``count`` events of the stream, oldest first."""
        names, weights = list(STEP_WEIGHTS), list(STEP_WEIGHTS.values())
        while len(self._ready) < count:
            self._steps[self.rng.choices(names, weights)[0]]()
        return [self._ready.popleft() for _ in range(count)]

    def _emit(self, type: str, entry: str, payload: Payload, mission: str = "update") -> None:
        self.clock.advance(self.rng.randint(20, 900))
        self._ready.append(GeneratedEvent(type, entry, mission, self.clock.event_date(), payload))

    def _internal_id(self, kind: str, erp_id: str) -> str:
        """Centra's own id for an object the ERP created: the ``entry`` of its events."""
        key = (kind, erp_id)
        if key not in self._internal_ids:
            self._internal_ids[key] = self.ids.internal.next()
        return self._internal_ids[key]

    def _account(self, account_id: str, company: str) -> Account:
        place = self.rng.choice([p for p in PLACES if p.country in WHOLESALE_MARKET.countries])
        buyers = [new_person(self.rng, self.ids.customer.next(), place) for _ in range(2)]
        return Account(
            account_id,
            company,
            buyers[0],
            buyers,
            paymentterms=self.rng.choice(PAYMENT_TERMS),
            shippingterms=self.rng.choice(SHIPPING_TERMS),
            salesrep=self.rng.choice(SALESREPS),
        )

    def _retail_order(self) -> None:
        """A webshop order; a first-time buyer registers as a customer just before it."""
        market = self.rng.choice(RETAIL_MARKETS)
        regulars = [c for c in self._customers if c.country in market.countries]
        if regulars and self.rng.random() < 0.4:
            customer = self.rng.choice(regulars)
        else:
            places = [p for p in PLACES if p.country in market.countries]
            customer = new_person(self.rng, self.ids.customer.next(), self.rng.choice(places))
            self._customers.append(customer)
            self._emit("customer", customer.id, customer_payload(customer))
        self._emit_order(new_retail_order(self.rng, self.ids, self.clock, market, customer))

    def _wholesale_order(self) -> None:
        account = self.rng.choice(self._accounts)
        self._emit_order(new_wholesale_order(self.rng, self.ids, self.clock, account))

    def claim(self, number: str) -> Order | None:
        """Hand over a generated order for the ERP to change: the stream takes no more steps
        of its life, as Centra leaves an order to the ERP once it is locked (§1.2)."""
        order = self._orders.pop(number, None)
        if order is not None:
            # By identity: comparing orders field by field is costly.
            self._open = [open_order for open_order in self._open if open_order is not order]
        return order

    def _emit_order(self, order: Order) -> None:
        self._open.append(order)
        self._orders[order.number] = order
        self._emit("order", order.number, order_payload(order))

    def _order_follow_up(self) -> None:
        """The next step of an open order: confirmed, part-cancelled, shipped or completed."""
        if len(self._open) < _MIN_OPEN_ORDERS:
            self._retail_order()
            return
        # By position: list.remove would compare whole orders field by field, O(open orders).
        index = self.rng.randrange(len(self._open))
        order = self._open[index]
        if not advance(order, self.rng, self.clock):
            del self._open[index]
            self._retail_order()
            return
        if not order.steps:
            del self._open[index]
        if order.status == "completed":
            self._to_invoice.extend((order, shipment) for shipment in order.shipments)
        self._emit("order", order.number, order_payload(order))

    def _customer_change(self) -> None:
        if not self._customers:
            self._retail_order()
            return
        index = self.rng.randrange(len(self._customers))
        self._customers[index] = customer = moved(self.rng, self._customers[index])
        self._emit("customer", customer.id, customer_payload(customer))

    def _invoice(self) -> None:
        if not self._to_invoice:
            self._order_follow_up()
            return
        order, shipment = self._to_invoice.popleft()
        invoice_id = self.ids.invoice.next()
        self._emit("invoice", invoice_id, invoice_payload(order, shipment, invoice_id, self.clock))

    def _warehouse(self) -> None:
        warehouse = self.rng.choice(WAREHOUSES)
        self._emit(
            "warehouse", self._internal_id("warehouse", warehouse.id), warehouse_payload(warehouse)
        )

    def _pricelist(self) -> None:
        market = self.rng.choice(MARKETS)
        payload = pricelist_payload(self.rng, market)
        self._emit("pricelist", self._internal_id("pricelist", market.pricelist), payload)

    def _account_event(self) -> None:
        account = self.rng.choice(self._accounts)
        self._emit("account", self._internal_id("account", account.id), account_payload(account))

    def _market(self) -> None:
        market = self.rng.choice(MARKETS)
        self._emit("market", self._internal_id("market", market.id), market_payload(market))

    def _size(self) -> None:
        table = self.rng.choice(SIZETABLES)
        size = self.rng.choice(table.sizes)
        entry = self._internal_id("size", f"{table.id}/{size.id}")
        self._emit("size", entry, size_payload(self.rng, table, size))

    def _salesrep(self) -> None:
        rep = self.rng.choice(SALESREPS)
        self._emit("salesrep", self._internal_id("salesrep", rep[0]), salesrep_payload(rep))

    def _delete(self) -> None:
        """A customer deletes their account; the payload of a delete carries only the id (U7)."""
        if len(self._customers) < _MIN_OPEN_ORDERS:
            self._retail_order()
            return
        customer = self._customers.pop(self.rng.randrange(len(self._customers)))
        self._emit("customer", customer.id, {"id": customer.id}, mission="delete")
