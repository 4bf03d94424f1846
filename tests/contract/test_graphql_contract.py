"""The GraphQL client against Centra's documented samples (centra-next.md §3.4 to §3.7).

The double (``graphql_double``) is built from those sections alone: the samples must hold
against it, the client's requests must take their shape, and the client must read the
answers that SDL shapes. What the client selects on orders, customers and products beyond
the samples is the bridge's own choice (§3.6) and is listed, not checked.
"""

from __future__ import annotations

from collections.abc import Iterator

import graphql
import pytest
import requests
import structlog
from graphql_double import OBJECT_TYPES, GraphqlContractDouble, event, sample

from bridge.centra.graphql import GraphqlClient
from bridge.config import GRAPHQL, CentraSettings, Secret

TOKEN = "contract-token-0c4e"


@pytest.fixture
def double() -> Iterator[GraphqlContractDouble]:
    server = GraphqlContractDouble(token=TOKEN).start()
    yield server
    server.stop()


def client(double: GraphqlContractDouble, listen: list[str]) -> GraphqlClient:
    settings = CentraSettings(
        endpoint=double.url,
        username="",
        password=Secret(""),
        flavor=GRAPHQL,
        token=Secret(TOKEN),
        timeout_s=5,
        max_attempts=1,
    )
    return GraphqlClient(settings, listen)


@pytest.mark.parametrize(
    "names",
    [
        ["set_event_listeners"],
        ["unset_event_listeners"],
        ["event_listeners"],
        ["product_events"],
        ["product_events", "events_in_single_query"],
        ["product_events", "multiple_queries"],
        ["product_events", "completed_events"],
        ["confirm_events"],
    ],
)
def test_the_documented_samples_hold_against_the_double(names: list[str]) -> None:
    """The double's schema is what the docs say: every verbatim sample is valid in it.

    (The later ``events`` samples use ``eventFields``, defined beside ``productEvents``.)
    """
    document = graphql.parse("\n".join(sample(name) for name in names))
    if names[0] == "product_events" and len(names) > 1:
        document = graphql.DocumentNode(
            definitions=[
                d
                for d in document.definitions
                if not (
                    isinstance(d, graphql.OperationDefinitionNode)
                    and d.name.value == "productEvents"
                )
            ]
        )
    problems = graphql.validate(GraphqlContractDouble().schema, document)
    assert problems == [], [p.message for p in problems]


def test_the_client_asks_as_documented_and_reads_the_documented_answers(
    double: GraphqlContractDouble,
) -> None:
    double.events = [
        event(100, "Customer", "CREATED", 7, {"__typename": "Customer", "id": "7"}),
        event(3, "Order", "DELETED", 1001, None),
        event(
            2,
            "Product",
            "UPDATED",
            42,
            {"__typename": "Product", "id": "42", "status": "ACTIVE", "productNumber": "P-42"},
        ),
    ]
    double.listener_warnings = [{"message": "Listener already exists", "path": ["input", "0"]}]
    with structlog.testing.capture_logs() as logs, client(double, ["Order", "Customer"]) as c:
        page = c.get_events()
        acknowledged = c.acknowledge([e.event_id for e in page.events] + ["999"])
    assert double.violations == []
    # setEventListeners: a list of {objectType} as in the sample; every change type then.
    listeners, events, confirm = double.requests
    assert listeners.operation == "setEventListeners"
    assert listeners.variables == {"input": [{"objectType": "Order"}, {"objectType": "Customer"}]}
    assert set(double.listeners) == {"Order", "Customer"}
    assert {"warning": "Listener already exists"}.items() <= next(
        line for line in logs if line["event"] == "Centra warns about the event listeners"
    ).items()
    # events: the sample's eventFields, a where of documented fields, a limit.
    assert events.operation == "events"
    assert events.variables["limit"] == 100
    assert set(events.variables["where"]) <= {"objectType", "changeType", "storeId", "marketId"}
    assert _fragment(events.document, "eventFields") == _fragment(
        sample("product_events"), "eventFields"
    )
    # Only the objects' own fields are the bridge's choice.
    assert events.assumed
    assert {item.split(".")[0].removeprefix("fragment on ") for item in events.assumed} <= {
        *OBJECT_TYPES,
        "MonetaryValue",
        "Address",
    }
    assert listeners.assumed == confirm.assumed == []
    # The answer as read: oldest first, Centra's kinds in the bridge's words, null = deleted.
    assert [e.event_id for e in page.events] == ["2", "3", "100"]
    assert [(e.type, e.entry, e.mission) for e in page.events] == [
        ("product", "42", "update"),
        ("order", "1001", "delete"),
        ("customer", "7", "update"),
    ]
    # confirmEvents: {eventsIds: [Int]} as in the sample; what it names is what was confirmed.
    assert confirm.operation == "confirmEvents"
    assert confirm.variables == {"ids": [2, 3, 100, 999]}
    assert double.confirmed == [2, 3, 100]
    assert acknowledged.success and acknowledged.notices == ["Event 999 not found"]
    assert {"warning": "Event 999 not found"}.items() <= next(
        line for line in logs if line["event"] == "Centra warns about confirmed events"
    ).items()


def _fragment(document: str, name: str) -> str:
    for definition in graphql.parse(document).definitions:
        if isinstance(definition, graphql.FragmentDefinitionNode) and definition.name.value == name:
            return graphql.print_ast(definition)
    raise AssertionError(f"no fragment {name}")


@pytest.mark.parametrize(
    "document",
    [
        "mutation c { confirmEvents(input: {eventIds: [1]}) { userErrors { message } } }",
        "query events { events(where: {type: [Order]}) { id } }",
        "mutation addEventListeners { addEventListeners(input: [{objectType: Order}]) { ok } }",
        "query events { events { id object { ...on Order { id } } entry } }",
    ],
)
def test_the_double_refuses_what_the_docs_do_not_show(
    double: GraphqlContractDouble, document: str
) -> None:
    """A misspelt input field, an unknown filter or mutation, a field Event lacks."""
    answer = requests.post(
        double.url,
        json={"query": document},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert double.violations and answer.json()["errors"][0]["message"] == double.violations[0]
