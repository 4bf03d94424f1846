"""Everything that talks to Centra: the port the core uses (``port``, ``errors``) and its
transports (``soap``). Importing ``bridge.centra`` or its port loads no transport."""
