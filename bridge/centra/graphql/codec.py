"""What the GraphQL transport knows without calling Centra: a stored event's payload."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.centra.errors import CentraProtocolError
from bridge.centra.graphql.client import push_unsupported
from bridge.centra.graphql.payload import payload_of
from bridge.centra.port import Payload


class GraphqlCodec:
    """The ``EventCodec`` of flavor "graphql": stored events are the event's JSON."""

    def decode(self, stored: str) -> Payload:
        """The payload of a stored event ({} for a deleted object)."""
        try:
            event = json.loads(stored)
        except ValueError:
            hint = " (stored over SOAP: replay it with a SOAP flavor)" if stored[:1] == "<" else ""
            raise CentraProtocolError(f"stored event is not GraphQL JSON{hint}") from None
        if not isinstance(event, dict):
            raise CentraProtocolError("stored event is not a GraphQL event object")
        obj = event.get("object")
        if not isinstance(obj, dict):
            return {}
        return payload_of(str(obj.get("__typename") or event.get("objectType") or ""), obj)

    def update_problem(self, entity_type: str, fields: Mapping[str, Any]) -> tuple[str, str] | None:
        raise push_unsupported()

    def preview_updates(self, entity_type: str, batches: Sequence[Sequence[Payload]]) -> list[str]:
        raise push_unsupported()
