"""A Centra SOAP test double over real HTTP, for tests, ``simulate`` and ``demo``."""

from __future__ import annotations

from bridge.simulator.app import FLAVORS, LOGIN_FAILED, Call, FaultHook, Flavor, Reply, Request
from bridge.simulator.catalog import EVENT_DATE_FORMATS, MERCHANT_TIMEZONE
from bridge.simulator.data import GeneratedEvent, Generator
from bridge.simulator.faults import KINDS as FAULT_KINDS
from bridge.simulator.faults import Fault, FaultPlan, Hold
from bridge.simulator.orderbook import OrderRow, OrderState, RefundState, RowState, ShipmentState
from bridge.simulator.prices import Price, Pricelist
from bridge.simulator.queue import WINDOW_SIZE
from bridge.simulator.server import (
    DEFAULT_EVENTS,
    DEFAULT_HOST,
    DEFAULT_PASSWORD,
    DEFAULT_PORT,
    DEFAULT_USERNAME,
    AddedOrder,
    Simulator,
    serve,
)
from bridge.simulator.soap import EVENTS_DONE_ANSWERS

__all__ = [
    "DEFAULT_EVENTS",
    "DEFAULT_HOST",
    "DEFAULT_PASSWORD",
    "DEFAULT_PORT",
    "DEFAULT_USERNAME",
    "EVENTS_DONE_ANSWERS",
    "EVENT_DATE_FORMATS",
    "FAULT_KINDS",
    "FLAVORS",
    "LOGIN_FAILED",
    "MERCHANT_TIMEZONE",
    "WINDOW_SIZE",
    "AddedOrder",
    "Call",
    "Fault",
    "FaultHook",
    "FaultPlan",
    "Flavor",
    "GeneratedEvent",
    "Generator",
    "Hold",
    "OrderRow",
    "OrderState",
    "Price",
    "Pricelist",
    "RefundState",
    "Reply",
    "Request",
    "RowState",
    "ShipmentState",
    "Simulator",
    "serve",
]
