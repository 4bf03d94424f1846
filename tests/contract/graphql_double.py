"""A strict stand-in for Centra's GraphQL events API, built from centra-next.md §3.4 to §3.7 alone.

``graphql_samples/`` holds the documented samples verbatim (the listener mutations and query,
the ``Event`` and listener SDL, the four ``events`` queries, ``confirmEvents``). The schema
here is those two SDL blocks plus what the same sections state in prose or show by usage:
the root fields, ``EventFilter``'s four named fields, the payloads, ``EventsConfirmInput``,
and an ``EventTarget`` of the objects the samples select (``Order``, ``Product``…) with only
the fields the samples select. Docs give no answer to an ``events`` or ``confirmEvents``
query verbatim: the answers here are shaped by that SDL.

Every request is parsed, its selections on the objects' own types beyond the documented
fields are set aside as ``assumed`` (the bridge owns that part of the query, §3.6), and the
rest is validated and run against the schema; a breach is an HTTP 400 with ``errors[]`` and
is kept in ``violations``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import graphql
from graphql.language.visitor import REMOVE

SAMPLES = Path(__file__).parent / "graphql_samples"
#: Types whose fields the bridge chooses (§3.6): the documented ones are checked, the rest
#: are the bridge's assumptions, recorded.
OBJECT_TYPES = ("Order", "Customer", "Product", "Collection", "Shipment", "Return")

_STATED = """
scalar Int64
scalar DateTimeTz
type Query {
  events(where: EventFilter, limit: Int): [Event!]!
  eventListeners: [EventListener!]!
}
type Mutation {
  setEventListeners(input: [EventListenerSetInput!]!): EventListenerSetPayload!
  unsetEventListeners(input: [EventListenerUnsetInput!]!): EventListenerSetPayload!
  confirmEvents(input: EventsConfirmInput!): EventsConfirmPayload!
}
enum EventChangeType { CREATED UPDATED COMPLETED DELETED DEPENDENT_DATA_CHANGED }
enum EventObjectType {
  Account AdminUser Affiliate AllocationRule Brand BrickAndMortar Bundle Buyer Campaign
  Category Collection Country Currency Customer DeliveryWindow Display EmailHistoryEntry
  Folder GiftCertificateGenerator Invoice Language LowestPrice MappedAttribute Market
  MeasurementChart NewsletterSubscription Order OrderHistoryEntry PaymentHistoryEntry
  PaymentTerms Price PriceAlteration Pricelist Product ProductMedia ProductSize
  ProductVariant PurchaseOrder PurchaseOrderDelivery Return SalesRepresentative Shipment
  ShippingOption ShippingTerms SizeChart StockChange Store StorePlugin Subscription
  SubscriptionContract SubscriptionPlan Supplier TaxRule Voucher Warehouse Wishlist
}
input EventFilter {
  objectType: [EventObjectType!]
  changeType: [EventChangeType!]
  storeId: [Int!]
  marketId: [Int!]
}
input EventsConfirmInput { eventsIds: [Int!]! }
type UserError { message: String! path: [String!] }
type EventListenerSetPayload {
  eventListeners: [EventListener!]!
  userErrors: [UserError!]!
  userWarnings: [UserError!]!
}
type EventsConfirmPayload {
  events: [Event!]!
  userErrors: [UserError!]!
  userWarnings: [UserError!]!
}
type Store { id: Int! }
type Market { id: Int! }
union EventTarget = Order | Customer | Product | Collection | Shipment | Return
type Order { id: ID! }
type Customer { id: ID! }
type Product { id: ID! status: String productNumber: String }
type Collection { id: ID! status: String name: String }
type Shipment { id: ID! }
type Return { id: ID! }
"""


def sample(name: str) -> str:
    return (SAMPLES / f"{name}.graphql").read_text(encoding="utf-8")


def schema() -> graphql.GraphQLSchema:
    sdl = sample("sdl_event") + sample("sdl_event_listener") + _STATED
    return graphql.build_schema(sdl)


@dataclass
class Recorded:
    """One request: its operation, variables, and what was set aside as assumed."""

    operation: str
    document: str
    variables: dict[str, Any]
    assumed: list[str] = field(default_factory=list)


class GraphqlContractDouble:
    """An HTTP server on 127.0.0.1: ``/graphql`` with Bearer ``token``, answers from ``events``."""

    def __init__(self, token: str = "contract-token") -> None:  # noqa: S107
        self.token = token
        self.schema = schema()
        #: What ``events`` answers: Event objects as the SDL shapes them.
        self.events: list[dict[str, Any]] = []
        #: What ``setEventListeners`` warns about (``userWarnings``).
        self.listener_warnings: list[dict[str, Any]] = []
        self.listeners: dict[str, list[str]] = {}
        self.confirmed: list[int] = []
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                status, body = double._answer(self)
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> GraphqlContractDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/graphql"

    def _answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, Any]]:
        if handler.path != "/graphql":
            return self._breach(404, f"POST to {handler.path}, not /graphql")
        if handler.headers.get("Content-Type") != "application/json":
            return self._breach(400, "Content-Type is not application/json (GQLINTRO)")
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self._breach(401, "no Authorization: Bearer <token> (AUTHZ)")
        length = int(handler.headers.get("Content-Length") or 0)
        try:
            request = json.loads(handler.rfile.read(length))
            document = graphql.parse(request["query"])
        except (ValueError, KeyError, graphql.GraphQLError) as exc:
            return self._breach(400, f"not a GraphQL request: {exc}")
        variables = request.get("variables") or {}
        checked, assumed = self.documented_part(document)
        recorded = Recorded(_operation(document), request["query"], variables, assumed)
        with self._lock:
            self.requests.append(recorded)
        problems = graphql.validate(self.schema, checked)
        if problems:
            return self._breach(400, "; ".join(p.message for p in problems))
        result = graphql.execute_sync(
            self.schema, checked, root_value=self._root(), variable_values=variables
        )
        if result.errors:
            return self._breach(400, "; ".join(e.message for e in result.errors))
        return 200, {"data": result.data, "extensions": {"complexity": 1, "permissionsUsed": []}}

    def documented_part(
        self, document: graphql.DocumentNode
    ) -> tuple[graphql.DocumentNode, list[str]]:
        """The document without what it selects on the objects' own types beyond the
        documented fields (and without fragments on types the docs do not show)."""
        assumed: list[str] = []
        known = self.schema.type_map
        unknown_fragments = {
            d.name.value
            for d in document.definitions
            if isinstance(d, graphql.FragmentDefinitionNode)
            and d.type_condition.name.value not in known
        }
        type_info = graphql.TypeInfo(self.schema)

        class SetAside(graphql.Visitor):
            def enter_fragment_definition(self, node: Any, *_: Any) -> Any:
                if node.name.value in unknown_fragments:
                    assumed.append(f"fragment on {node.type_condition.name.value}")
                    return REMOVE
                return None

            def enter_fragment_spread(self, node: Any, *_: Any) -> Any:
                return REMOVE if node.name.value in unknown_fragments else None

            def enter_field(self, node: Any, *_: Any) -> Any:
                parent = type_info.get_parent_type()
                name = getattr(parent, "name", "")
                if name in OBJECT_TYPES and node.name.value not in getattr(parent, "fields", {}):
                    assumed.append(f"{name}.{node.name.value}")
                    return REMOVE
                return None

        checked = graphql.visit(document, graphql.TypeInfoVisitor(type_info, SetAside()))
        return checked, assumed

    def _root(self) -> dict[str, Any]:
        def events(info: Any, where: dict[str, Any] | None = None, limit: int = 100) -> Any:
            wanted = set((where or {}).get("objectType") or [])
            return [e for e in self.events if not wanted or e["objectType"] in wanted][:limit]

        def set_listeners(info: Any, input: list[dict[str, Any]]) -> dict[str, Any]:
            for item in input:
                # "All elements are always returned" (EventListener.changeTypes, SDL).
                changes = item.get("changeTypes") or list(_CHANGE_TYPES)
                self.listeners[item["objectType"]] = sorted(
                    set(self.listeners.get(item["objectType"], [])) | set(changes)
                )
            return {
                "eventListeners": [
                    _listener(kind, changes) for kind, changes in sorted(self.listeners.items())
                ],
                "userErrors": [],
                "userWarnings": self.listener_warnings,
            }

        def confirm(info: Any, input: dict[str, Any]) -> dict[str, Any]:
            ids = input["eventsIds"]
            known = {e["id"]: e for e in self.events}
            self.confirmed.extend(i for i in ids if i in known)
            self.events = [e for e in self.events if e["id"] not in ids]
            # Unknown or confirmed before: a warning, as N6 assumes.
            unknown = [i for i in ids if i not in known]
            warnings = [{"message": f"Event {i} not found", "path": ["eventsIds"]} for i in unknown]
            return {
                "events": [known[i] for i in ids if i in known],
                "userErrors": [],
                "userWarnings": warnings,
            }

        return {"events": events, "setEventListeners": set_listeners, "confirmEvents": confirm}

    def _breach(self, status: int, why: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.violations.append(why)
        return status, {"errors": [{"message": why}]}


_CHANGE_TYPES = ("CREATED", "UPDATED", "COMPLETED", "DELETED", "DEPENDENT_DATA_CHANGED")


def _listener(kind: str, changes: list[str]) -> dict[str, Any]:
    return {
        "integrationName": "centra-bridge",
        "objectType": kind,
        "changeTypes": changes,
        "createdAt": "2024-02-23T10:00:00+01:00",
        "updatedAt": "2024-02-23T10:00:00+01:00",
    }


def _operation(document: graphql.DocumentNode) -> str:
    for definition in document.definitions:
        if isinstance(definition, graphql.OperationDefinitionNode) and definition.name:
            return definition.name.value
    return "?"


def event(
    event_id: int,
    object_type: str,
    change_type: str,
    reference: int,
    obj: dict[str, Any] | None,
) -> dict[str, Any]:
    """One ``Event`` as the SDL shapes it; ``obj`` carries its ``__typename``."""
    return {
        "id": event_id,
        "objectType": object_type,
        "changeType": change_type,
        "objectReference": reference,
        "createdAt": lambda info, format=None: "2024-02-23T10:00:00+01:00",
        "store": {"id": 1},
        "market": None,
        "object": obj,
    }
