"""The checks every generated text passes before anyone can see it."""

from __future__ import annotations

import pytest

from oscar_llm.catalogue import Vocabulary
from oscar_llm.content.checks import Limits, check_text
from oscar_llm.guardrails.html import sanitize_html, strip_tags


def facts(**attributes):
    attrs = {
        "brand": "Northwind",
        "gender": "Women",
        "colour": "Navy Blue",
        "material": "Cotton",
        "article_type": "Dresses",
        "size": "M",
    }
    attrs.update(attributes)
    return {
        "title": "x",
        "category": "Women > Clothing > Dresses",
        "attributes": attrs,
        "price": "45.00",
        "currency": "GBP",
    }


CATALOGUE = [
    facts(),
    facts(brand="Tarn", gender="Men", colour="Black", material="Linen", article_type="Shirts", size="L"),
    facts(brand="Calder", gender="Unisex", colour="Red", material="Leather", article_type="Tshirts", size="XL"),
    facts(brand="Red Tape", gender="Men", colour="Blue", material="Wool", article_type="Casual Shoes", size="UK 9"),
]
VOCAB = Vocabulary.from_facts(CATALOGUE)


def check(text, kind="title", f=None, **limits):
    return check_text(text, facts=f or facts(), kind=kind, vocabulary=VOCAB, limits=Limits(**limits))


def checks_failed(text, **kw):
    return {r["check"] for r in check(text, **kw)[1]}


def test_true_title_passes():
    assert check("Northwind Women Navy Blue Cotton Dress")[1] == []


def test_conflicting_colour_is_rejected_with_a_reason():
    text, reasons = check("Northwind Women Black Cotton Dress")
    assert [r["check"] for r in reasons] == ["colour"]
    assert "Black" in reasons[0]["message"] and "Navy Blue" in reasons[0]["message"]


@pytest.mark.parametrize(
    ("text", "failed"),
    [
        ("Northwind Men Navy Blue Cotton Dress", {"gender"}),
        ("Northwind Women Navy Blue Linen Dress", {"material"}),
        ("Northwind Women Navy Blue Cotton Shirt", {"article_type"}),
        ("Tarn Women Navy Blue Cotton Dress", {"brand"}),
        ("Northwind Women Navy Blue Cotton Dress, size L", {"size"}),
        ("Northwind Women Navy Blue Cotton Dress 2 Pack", {"number"}),
        ("Northwind Women Navy Blue Cotton Dress for £39.99", {"number"}),
    ],
)
def test_each_attribute_conflict_is_caught(text, failed):
    assert checks_failed(text) == failed


def test_numbers_and_sizes_in_the_facts_are_allowed():
    assert check("Northwind Women Navy Blue Cotton Dress, size M, £45", kind="description")[1] == []


def test_vague_colour_and_plural_forms_are_not_conflicts():
    assert check("Northwind women's blue cotton dresses")[1] == []
    tee = facts(brand="Calder", gender="Unisex", colour="Red", material="Leather", article_type="Tshirts")
    assert check("Calder Unisex Red T-shirt", f=tee)[1] == []


def test_a_brand_containing_a_colour_word_is_not_a_colour_claim():
    shoes = facts(brand="Red Tape", gender="Men", colour="Blue", material="Wool", article_type="Casual Shoes")
    assert check("Red Tape Men Blue Casual Shoes", f=shoes)[1] == []
    assert checks_failed("Red Tape Men Red Casual Shoes", f=shoes) == {"colour"}


def test_banned_words_and_length_limits():
    assert checks_failed("Northwind Women Navy Blue Cotton Dress, cheap", banned_words=["cheap"]) == {"banned_word"}
    assert checks_failed("Northwind Women Navy Blue Cotton Dress", max_length=10) == {"length"}
    assert checks_failed("", min_length=3) == {"length"}


def test_wrong_language_is_rejected():
    german = (
        "Dieses elegante Kleid aus Baumwolle ist perfekt für den Sommer und lässt sich wunderbar "
        "mit Sandalen kombinieren, sodass Sie jeden Tag gut aussehen."
    )
    assert "language" in checks_failed(german, kind="description", max_length=1000)
    assert "language" in checks_failed("ノースウィンド ドレス", max_length=100)


def test_degenerate_repetition_is_rejected():
    assert "repetition" in checks_failed("Dress Dress Dress Dress")


def test_script_tags_in_generated_html_are_stripped():
    html = '<p>A navy blue cotton dress.</p><script>alert("x")</script><img src=x onerror=alert(1)>'
    clean, reasons = check(html, kind="description")
    assert "<script" not in clean and "alert" not in clean and "onerror" not in clean
    assert clean.startswith("<p>A navy blue cotton dress.</p>")
    assert reasons == []


def test_titles_lose_all_markup_and_attributes_are_dropped():
    assert strip_tags("<b>Northwind</b> <script>x()</script>Dress") == "Northwind Dress"
    assert sanitize_html('<p onclick="x()" style="color:red">Hi <a href="javascript:x">there</a></p>') == (
        "<p>Hi there</p>"
    )
