"""The handlers (order, customer, product) that keep the ERP-facing copies, their registry,
what runs around them (``delivery``) and the sinks that hand events to the ERP."""
