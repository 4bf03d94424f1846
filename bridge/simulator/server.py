"""The simulator as a real HTTP server on loopback, with state tests can read and wait on."""

from __future__ import annotations

import signal
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree

from bridge.clock import Progress, no_progress
from bridge.simulator.app import FLAVORS, Call, FaultHook, SimState, SoapApp
from bridge.simulator.catalog import EVENT_DATE_FORMATS, MARKETS, PLACES, WAREHOUSES
from bridge.simulator.data import Generator
from bridge.simulator.faults import FaultPlan
from bridge.simulator.masterdata import new_person
from bridge.simulator.orderbook import (
    OrderBook,
    OrderRow,
    OrderState,
    build_order,
    ship_everything,
)
from bridge.simulator.orders import Order, order_payload
from bridge.simulator.prices import Pricelist
from bridge.simulator.queue import Event
from bridge.simulator.soap import (
    CENTRA_NS,
    EVENTS_DONE_ANSWERS,
    Payload,
    build,
    child_text,
    safe_parser,
)
from bridge.simulator.wsdl import find_wsdl_dir

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_USERNAME = "demo"
DEFAULT_PASSWORD = "demo-password"  # noqa: S105 (the simulator's published demo login)
DEFAULT_EVENTS = 300
#: How often ``wait_for`` re-checks a predicate that depends on something outside the simulator.
_RECHECK_S = 0.05
#: The market of an order a test adds, by its type (store 1 retail, store 2 wholesale, §5).
_MARKET_OF_TYPE = {"retail": "Retail-EU", "wholesale": "Wholesale-Market"}


@dataclass(frozen=True, slots=True)
class AddedOrder:
    """An order ``Simulator.add_order`` created: its id, its orderitem ids in row order, and the
    id of the order event queued for it (None when none was)."""

    id: str
    orderitems: list[str]
    event_id: str | None


#: Events generated between two progress reports.
PROGRESS_EVERY = 500


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per request, so a slow client never holds up the bridge under test."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the simulator records every call in ``Simulator.calls``."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class Simulator:
    """A Centra SOAP test double over real HTTP (dramatiq's StubBroker, httpx's MockTransport).

    Usage::

        with Simulator() as sim:
            sim.add_generated(250)
            run_the_bridge(sim.url)
            assert sim.wait_for(lambda: not sim.queue())
    """

    def __init__(
        self,
        *,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        seed: int = 1,
        host: str = DEFAULT_HOST,
        port: int = 0,
        wsdl_dir: Path | None = None,
        events_done_answer: str = "result",
        event_dates: str = "plain",
        echo_orders: bool = True,
        capture_fails: bool = False,
    ) -> None:
        """``events_done_answer`` and ``event_dates`` pick among the answers Centra's docs
        leave open (``EVENTS_DONE_ANSWERS``, ``EVENT_DATE_FORMATS``); ``echo_orders`` and
        ``capture_fails`` start the switches of the same names."""
        if events_done_answer not in EVENTS_DONE_ANSWERS:
            raise ValueError(f"events_done_answer must be one of {', '.join(EVENTS_DONE_ANSWERS)}")
        if event_dates not in EVENT_DATE_FORMATS:
            raise ValueError(f"event_dates must be one of {', '.join(EVENT_DATE_FORMATS)}")
        self.username = username
        self.password = password
        self._host = host
        self._port = port
        self._generator = Generator(seed, event_dates=event_dates)
        #: The generator is not thread-safe: events are prepared outside the state lock while
        #: an orders_Update may claim a generated order. Always taken after the state lock.
        self._generating = threading.Lock()
        self._state = SimState(
            events_done_answer=events_done_answer,
            orders=OrderBook(now=self._generator.clock.iso, adopt=self._claim_generated),
            echo_orders=echo_orders,
            capture_fails=capture_fails,
        )
        self._state.order_changed = self._queue_order_event
        self._added: Counter[str] = Counter()
        self._app = SoapApp(
            self._state,
            username=username,
            password=password,
            wsdl_dir=wsdl_dir if wsdl_dir is not None else find_wsdl_dir(),
            base_url=self._base_url,
        )
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Bind (port 0 picks a free one) and serve on a background thread."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        server = make_server(
            self._host,
            self._port,
            self._app,
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
        self._server, self._port = server, server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="centra-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        self._state.stopping.set()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The URL of the recommended ``soap/api`` endpoint."""
        return self.endpoint("soap")

    def endpoint(self, flavor: str) -> str:
        """The URL of one endpoint: ``soap``, ``navision-soap`` or ``navision-api``."""
        if flavor not in FLAVORS:
            raise ValueError(f"unknown flavor {flavor!r}; expected one of {', '.join(FLAVORS)}")
        return self._base_url() + FLAVORS[flavor].path

    def _base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator not started")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    # -- the queue ---------------------------------------------------------------------------

    def add_generated(self, count: int, progress: Progress = no_progress) -> list[str]:
        """Queue ``count`` realistic events (orders over their life, customers, master data)."""
        return self.add_prepared(self.prepare_generated(count, progress))

    def prepare_generated(self, count: int, progress: Progress = no_progress) -> list[Event]:
        """The next ``count`` events of the generated stream, serialised but not queued.

        Building them is most of the cost of ``add_generated``, and needs no lock;
        ``progress`` hears every ``PROGRESS_EVERY`` events.
        """
        with self._generating:
            generated = self._generator.generate(count)
        events = []
        for number, e in enumerate(generated, start=1):
            xml = build(None, e.type, e.payload, CENTRA_NS)
            events.append(Event.of(e.type, xml, entry=e.entry, mission=e.mission, date=e.date))
            if number % PROGRESS_EVERY == 0 or number == count:
                progress("generating events", number, count)
        return events

    def add_prepared(self, events: Sequence[Event]) -> list[str]:
        """Queue prepared events, each under a new id; the same event may be queued again.

        Centra re-sends an object's whole state whenever it changes, so an event queued again
        reads as the same object changed again.
        """
        with self._state.changed:
            ids = [self._state.queue.add(event).id for event in events]
            self._added.update(event.type for event in events)
            self._state.changed.notify_all()
        return ids

    def add_event(
        self,
        type: str,
        payload: Payload | None = None,
        *,
        mission: str = "update",
        entry: str | None = None,
        payload_xml: str | bytes | None = None,
    ) -> str:
        """Queue one event under exact control.

        ``payload`` becomes ``<data><{type}>…``; ``payload_xml`` is the child of ``<data>`` as
        raw XML (any namespace or none), e.g. with an element the WSDL does not know; with
        neither, ``<data/>`` stays empty, as Centra's docs leave paymentterm events (§2.2).
        ``entry`` defaults to the payload's ``id``.
        """
        if payload is not None and payload_xml is not None:
            raise ValueError("give payload or payload_xml, not both")
        element: etree._Element | None = None
        if payload_xml is not None:
            raw = payload_xml.encode() if isinstance(payload_xml, str) else payload_xml
            element = etree.fromstring(raw, safe_parser())
        elif payload is not None:
            element = build(None, type, payload)
        if entry is None:
            entry = (child_text(element, "id") or "") if element is not None else ""
        with self._state.changed:
            self._generator.clock.advance(1)
            event = Event.of(
                type, element, entry=entry, mission=mission, date=self._generator.clock.event_date()
            )
            queued = self._state.queue.add(event)
            self._added[type] += 1
            self._state.changed.notify_all()
        return queued.id

    # -- orders and prices ---------------------------------------------------------------------

    def add_order(
        self,
        rows: Sequence[OrderRow],
        *,
        order_id: str | None = None,
        type: str = "retail",
        status: str | None = None,
        shipping: Decimal | str = "0.00",
        shipment: str | None = None,
        queue_event: bool = True,
    ) -> AddedOrder:
        """Make an order with exactly ``rows`` known to the simulator, as if placed in Centra,
        and (``queue_event``) queue its order event, as Centra does for a new order (§1.5).

        ``type`` "retail" (store 1, card payment authorised, status ``confirmed``) or
        "wholesale" (store 2, invoice, status ``pending``); ids not given are the next free ones.
        ``shipment``: the id of a shipment of every row that Centra created by itself, as it may
        for DTC orders (status ``processing``, good to go, not shipped).
        """
        if type not in _MARKET_OF_TYPE:
            raise ValueError(f"type must be one of {', '.join(_MARKET_OF_TYPE)}, got {type!r}")
        market = next(m for m in MARKETS if m.id == _MARKET_OF_TYPE[type])
        warehouse = WAREHOUSES[0].id
        with self._state.changed:
            with self._generating:
                ids = self._generator.ids
                number = order_id if order_id is not None else ids.order.next()
                orderitems = [row.orderitem or ids.orderitem.next() for row in rows]
                place = next(p for p in PLACES if p.country in market.countries)
                customer = new_person(self._generator.rng, ids.customer.next(), place)
                created = self._generator.clock.iso()
            if len(set(orderitems)) != len(orderitems):
                raise ValueError(f"order {number}: orderitem ids must be unique within the order")
            order = build_order(
                number,
                market,
                customer,
                list(zip(rows, orderitems, strict=True)),
                created=created,
                status=status or ("confirmed" if type == "retail" else "pending"),
                shipping=Decimal(shipping),
                warehouse=warehouse,
            )
            if shipment is not None:
                ship_everything(order, shipment, created)
            self._state.orders.add(order)
            event_id = self._queue_order_event(order) if queue_event else None
        return AddedOrder(number, orderitems, event_id)

    def order_state(self, order_id: str) -> OrderState | None:
        """What Centra holds for an order now (locked, rows, shipments, captures, refunds), or
        None for an order the simulator does not know. Reading a generated order hands it to
        the ERP, as an update would: the stream takes no more steps of its life."""
        with self._state.changed:
            return self._state.orders.state(order_id)

    def pricelist(self, pricelist_id: str) -> Pricelist | None:
        """Prices pricelists_Update left in one pricelist (a copy), or None."""
        with self._state.changed:
            return self._state.prices.get(pricelist_id)

    @property
    def echo_orders(self) -> bool:
        """Whether each order an orders_Update changes gets its order event queued (default)."""
        return self._state.echo_orders

    @echo_orders.setter
    def echo_orders(self, on: bool) -> None:
        with self._state.changed:
            self._state.echo_orders = on

    @property
    def capture_fails(self) -> bool:
        """Whether a capture that would happen fails instead (``success=false``; invented)."""
        return self._state.capture_fails

    @capture_fails.setter
    def capture_fails(self, on: bool) -> None:
        with self._state.changed:
            self._state.capture_fails = on

    def _claim_generated(self, number: str) -> Order | None:
        with self._generating:
            return self._generator.claim(number)

    def _queue_order_event(self, order: Order) -> str:
        """Queue the order event with the whole current order (caller holds the state lock)."""
        with self._state.changed:
            self._generator.clock.advance(1)
            event = Event.of(
                "order",
                build(None, "order", order_payload(order), CENTRA_NS),
                entry=order.number,
                mission="update",
                date=self._generator.clock.event_date(),
            )
            queued = self._state.queue.add(event)
            self._added["order"] += 1
            self._state.changed.notify_all()
        return queued.id

    def queue(self, event_type: str = "all") -> list[str]:
        """Ids not yet acknowledged, oldest first."""
        with self._state.changed:
            return self._state.queue.pending(event_type)

    def queue_length(self) -> int:
        """How many events are not yet acknowledged: ``len(queue())`` without the list."""
        with self._state.changed:
            return len(self._state.queue)

    @property
    def acknowledged(self) -> list[str]:
        """Ids in the order events_Done removed them."""
        with self._state.changed:
            return list(self._state.queue.acknowledged)

    @property
    def events_added(self) -> dict[str, int]:
        """How many events of each kind were queued so far."""
        with self._state.changed:
            return dict(self._added)

    # -- what the client did -----------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every HTTP request received, in arrival order."""
        with self._state.changed:
            return list(self._state.calls)

    @property
    def faults(self) -> list[FaultHook]:
        """Hooks that may answer a request instead of the simulator; append to inject faults."""
        return self._state.faults

    def inject(self, plan: FaultPlan) -> FaultPlan:
        """Let ``plan`` strike from now on (before and after the simulator answers)."""
        plan.bind(self._state.stopping)
        self._state.faults.append(plan.before)
        self._state.after.append(plan.after)
        return plan

    @property
    def products(self) -> dict[str, Payload]:
        """Products stored by products_Update, by ERP id (a copy)."""
        return self.objects("product")

    @property
    def customers(self) -> dict[str, Payload]:
        """Customers stored by customers_Update, by ERP id (a copy)."""
        return self.objects("customer")

    def objects(self, kind: str) -> dict[str, Payload]:
        """Objects of one kind ("product", "order", "paymentterms"…) stored by ``*_Update``."""
        with self._state.changed:
            return self._state.store.get(kind)

    def conversion_table(self, kind: str) -> dict[str, str]:
        """The ID conversion table of one kind: ERP id → the simulator's internal id."""
        with self._state.changed:
            return self._state.store.conversion_table(kind)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
        """Block until ``predicate()`` is true or ``timeout`` seconds pass; True if it held.

        Re-checked on every change of the simulator's state (and every 50 ms, for predicates
        over state outside it), so tests wait for work instead of sleeping.
        """
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.changed.wait(min(remaining, _RECHECK_S))
        return True


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    events: int = DEFAULT_EVENTS,
    seed: int = 1,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    faults: FaultPlan | None = None,
    events_done_answer: str = "result",
    event_dates: str = "plain",
    echo_orders: bool = True,
    capture_fails: bool = False,
    progress: Progress = no_progress,
) -> None:
    """Run a simulator until SIGINT or SIGTERM (``centra-bridge simulate``).

    Prints the endpoints and login to stdout, the answer of the command.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Simulator(
            username=username,
            password=password,
            seed=seed,
            host=host,
            port=port,
            events_done_answer=events_done_answer,
            event_dates=event_dates,
            echo_orders=echo_orders,
            capture_fails=capture_fails,
        ) as sim:
            sim.add_generated(events, progress)
            if faults is not None:
                sim.inject(faults)
            print(f"Centra SOAP simulator listening on {sim.url}", flush=True)
            for flavor in FLAVORS:
                print(f"  {flavor:<14} {sim.endpoint(flavor)}  (WSDL: ?wsdl)", flush=True)
            print(f"  username: {username}  password: {password}", flush=True)
            summary = ", ".join(f"{kind} {n}" for kind, n in sorted(sim.events_added.items()))
            print(f"  queued {events} events: {summary}", flush=True)
            if faults is not None:
                kinds = ", ".join(f"{f.kind} ({f.rate:.0%})" for f in faults.faults)
                print(f"  injecting faults: {kinds}", flush=True)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
