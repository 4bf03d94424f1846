"""The simulator's pricelists_Update: product and variation prices per pricelist (§2.2)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from bridge.simulator.prices import Price, PriceBook
from bridge.simulator.soap import CENTRA_NS, to_data

CAPTURE = Path(__file__).parents[1] / "contract" / "captures" / "pricelists_update.xml"


def guide_pricelists() -> list[object]:
    """The guide's two pricelists, read as the simulator reads a request."""
    root = etree.parse(str(CAPTURE)).getroot()
    return [to_data(el) for el in root.iter(f"{{{CENTRA_NS}}}pricelist")]


def test_the_guides_sample_sets_product_and_variation_prices() -> None:
    """EUR-Retail: variant prices for T001, a product price for PWC; USD-Wholesale adds priceb
    and time-altered prices."""
    book = PriceBook()
    outcome, accepted = book.update(guide_pricelists())  # type: ignore[arg-type]
    assert outcome.success and len(accepted) == 2
    retail = book.get("EUR-Retail")
    assert retail is not None
    assert (retail.store, retail.type, retail.currency) == ("1", "retail", "EUR")
    assert retail.products == {"PWC": Price(price="1000")}
    assert retail.variations == {
        ("T001", "T001_RED"): Price(price="123"),
        ("T001", "T001_BLUE"): Price(price="234"),
    }
    wholesale = book.get("USD-Wholesale")
    assert wholesale is not None
    assert wholesale.variations[("T001", "T001_RED")] == Price("45", "123", "50", "150")
    assert wholesale.products["PWC"] == Price(price="700", priceb="1000")


def test_a_price_update_keeps_what_it_does_not_send() -> None:
    """Sending only a new price leaves priceb and the other rows as they were."""
    book = PriceBook()
    book.update(guide_pricelists())  # type: ignore[arg-type]
    change = {
        "id": "USD-Wholesale",
        "items": {"product": [{"id": "T001", "variation": [{"id": "T001_RED", "price": "47"}]}]},
    }
    outcome, _ = book.update([change])
    assert outcome.success
    wholesale = book.get("USD-Wholesale")
    assert wholesale is not None
    assert wholesale.variations[("T001", "T001_RED")] == Price("47", "123", "50", "150")
    assert wholesale.variations[("T001", "T001_BLUE")].price == "67"


def test_refusals_name_the_pricelist_and_change_nothing() -> None:
    """Size-level prices, a price that is no amount, a new list without currency: refused."""
    book = PriceBook()
    book.update(guide_pricelists())  # type: ignore[arg-type]
    size_level = {
        "id": "EUR-Retail",
        "items": {
            "product": [{"id": "T001", "variation": [{"id": "T001_RED", "sizes": {"size": []}}]}]
        },
    }
    not_a_price = {"id": "EUR-Retail", "items": {"product": [{"id": "PWC", "price": "cheap"}]}}
    outcome, accepted = book.update([size_level, not_a_price, {"id": "SEK", "store": "1"}])
    assert outcome.success is False and accepted == []
    assert outcome.errors == [
        "Pricelist EUR-Retail: T001/T001_RED: prices are set per product or variation, "
        "not per size",
        "Pricelist EUR-Retail: PWC: <price> 'cheap' is not a price",
        "Pricelist SEK: a new pricelist needs <store> and <currency>",
    ]
    retail = book.get("EUR-Retail")
    assert retail is not None and retail.products == {"PWC": Price(price="1000")}
    assert book.get("SEK") is None
