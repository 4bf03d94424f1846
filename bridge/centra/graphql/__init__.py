"""The GraphQL transport: ``GraphqlClient`` (a ``CentraPort``) and ``GraphqlCodec`` (an
``EventCodec``) over Centra's GraphQL Integration API events (centra-next.md §3).

Reads only, for now: pushing ERP updates over GraphQL is refused with a ConfigError.
"""

from bridge.centra.graphql.client import GraphqlClient
from bridge.centra.graphql.codec import GraphqlCodec
from bridge.centra.graphql.kinds import listener_types

__all__ = ["GraphqlClient", "GraphqlCodec", "listener_types"]
