"""The GraphQL documents the bridge sends: what it selects is what handlers get.

An event's ``object`` is the object's state when the page is fetched, not when the event
was raised (centra-next.md §3.6); the fragments pick, per object type, what the built-in
handlers read. Field names beyond those Centra's samples show (``number``, ``status``,
``isLocked``, ``lines``, ``shipments``, ``shippingAddress``…) are assumptions to check on a
QA instance; an unknown field makes Centra answer with ``errors[]`` at once, never quietly.
"""

from __future__ import annotations

EVENT_FIELDS = """
fragment eventFields on Event {
  id
  objectType
  changeType
  objectReference
  createdAt
  store { id }
  market { id }
}
fragment money on MonetaryValue { value currencyIsoCode }
fragment address on Address {
  firstName lastName address1 address2 city zipCode country { code } email phoneNumber
}
fragment orderFields on Order {
  id number status isLocked createdAt
  store { id type }
  market { id }
  currencyIsoCode
  grandTotal { ...money }
  customer { id }
  account { id }
  lines {
    id quantity cancelledQuantity sku
    product { id name }
    productVariant { id name }
    size { id name }
    unitPrice { ...money }
  }
  shipments {
    id number isShipped isPaid createdAt
    shipmentInfo { carrier service trackingNumber }
    lines { quantity orderLine { id } }
  }
  shippingAddress { ...address }
  billingAddress { ...address }
}
fragment customerFields on Customer {
  id email firstName lastName status
  billingAddress { ...address }
}
fragment productFields on Product {
  id name status productNumber
}
"""

EVENTS = (
    """
query events($where: EventFilter, $limit: Int) {
  events(where: $where, limit: $limit) {
    ...eventFields
    object {
      __typename
      ...on Order { ...orderFields }
      ...on Customer { ...customerFields }
      ...on Product { ...productFields }
    }
  }
}
"""
    + EVENT_FIELDS
)

CONFIRM_EVENTS = """
mutation confirmEvents($ids: [Int!]!) {
  confirmEvents(input: {eventsIds: $ids}) {
    events { id }
    userErrors { message path }
    userWarnings { message path }
  }
}
"""

SET_EVENT_LISTENERS = """
mutation setEventListeners($input: [EventListenerSetInput!]!) {
  setEventListeners(input: $input) {
    eventListeners { integrationName objectType changeTypes }
    userErrors { message path }
    userWarnings { message path }
  }
}
"""
