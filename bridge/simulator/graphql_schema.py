"""The GraphQL double's schema: Centra's documented events API (centra-next.md §3.4 to §3.7,
re-typed from centra.dev), and the objects the double can look up.

The event, listener, filter and confirm types are Centra's. ``Order``, ``Customer`` and
``Product`` carry the fields the bridge selects (``bridge.centra.graphql.documents``), an
assumption where Centra's samples do not show them; ids are ``ID``s holding the ERP's ids,
as if the ID conversion (IDCONV) were set up for every object.
"""

from __future__ import annotations

from bridge.centra.graphql.kinds import OBJECT_TYPES

#: Object types the double keeps objects of; every other type's events carry ``Other*``.
LOOKED_UP = ("Order", "Customer", "Product")

SDL = (
    """
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
enum EventObjectType { """
    + " ".join(OBJECT_TYPES)
    + """ }
input EventFilter {
  objectType: [EventObjectType!]
  changeType: [EventChangeType!]
  storeId: [Int!]
  marketId: [Int!]
  integrationName: [String!]
}
input EventListenerSetInput { objectType: EventObjectType! changeTypes: [EventChangeType!] }
input EventListenerUnsetInput { objectType: EventObjectType! changeTypes: [EventChangeType!] }
input EventsConfirmInput { eventsIds: [Int!]! }
type UserError { message: String! path: [String!] }
type EventListener {
  integrationName: String!
  objectType: EventObjectType!
  changeTypes: [EventChangeType!]!
  createdAt: String!
  updatedAt: String!
}
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
type Event {
  id: Int!
  objectType: EventObjectType!
  changeType: EventChangeType!
  objectReference: Int!
  createdAt: String!
  store: Store
  market: Market
  object: EventTarget
}
union EventTarget = Order | Customer | Product | OtherObject
type OtherObject { id: ID }
enum StoreType { DIRECT_TO_CONSUMER WHOLESALE }
type Store { id: Int! type: StoreType }
type Market { id: ID! }
type Country { code: String! }
type MonetaryValue { value: Float! currencyIsoCode: String! }
type Address {
  firstName: String lastName: String address1: String address2: String city: String
  zipCode: String country: Country email: String phoneNumber: String
}
type Reference { id: ID! name: String }
type Order {
  id: String! number: Int! status: String! isLocked: Boolean! createdAt: String!
  store: Store! market: Market currencyIsoCode: String grandTotal: MonetaryValue
  customer: Reference account: Reference
  lines: [OrderLine!]! shipments: [Shipment!]!
  shippingAddress: Address billingAddress: Address
}
type OrderLine {
  id: ID! quantity: Int! cancelledQuantity: Int! sku: String
  product: Reference productVariant: Reference size: Reference unitPrice: MonetaryValue
}
type ShipmentInfo { carrier: String service: String trackingNumber: String }
type ShipmentLine { quantity: Int! orderLine: Reference! }
type Shipment {
  id: Int! number: String! isShipped: Boolean! isPaid: Boolean! createdAt: String
  shipmentInfo: ShipmentInfo lines: [ShipmentLine!]!
}
type Customer {
  id: ID! email: String firstName: String lastName: String status: String
  billingAddress: Address
}
type Product { id: ID! name: String status: String productNumber: String }
"""
)
