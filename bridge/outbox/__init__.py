"""ERP → Centra: input checks, the outbox and its push, the id map, echo suppression, the
drop directory and the dry run. The transport is reached through ``bridge.centra.port``."""
