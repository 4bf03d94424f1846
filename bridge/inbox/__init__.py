"""Centra → store → ERP: the drain (fetch, store, acknowledge), dispatch from the store to the
handlers, replay and the status lookups. The transport is reached through ``bridge.centra.port``."""
