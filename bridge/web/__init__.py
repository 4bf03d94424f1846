"""The operators' web console: the store's overview, lookups and manual actions in a browser."""
