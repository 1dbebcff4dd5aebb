"""Segment variants differ for a reason: each segment's training targets lead with its own facts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oscar_llm.catalogue import Vocabulary, product_facts
from oscar_llm.content.checks import Limits, check_text
from oscar_llm.content.figures import Variant, segment_figures, variant_figures
from oscar_llm.content.prompts import (
    PromptContext,
    chat_messages,
    fact_stated,
    leads_with,
    plain_prompt,
    segment_style,
    segment_styles,
    sentences,
)
from oscar_llm.content.training_data import lead_sentence, pairs_from_database, pairs_from_facts, segment_target
from oscar_llm.models import ContentDraft
from oscar_llm.settings import DEFAULTS

SEGMENTS = DEFAULTS["SEGMENTS"]
VALUE = tuple(SEGMENTS["value"]["focus"])
PREMIUM = tuple(SEGMENTS["premium"]["focus"])


def dress(**changes) -> dict:
    facts = {
        "title": "Northwind Women Navy Blue Cotton Dress",
        "category": "Women > Clothing > Dresses",
        "product_class": "Clothing",
        "attributes": {
            "brand": "Northwind",
            "gender": "Women",
            "colour": "Navy Blue",
            "material": "Cotton",
            "article_type": "Dresses",
            "size": "M",
            "season": "Summer",
            "usage": "Casual",
        },
        "description": "A navy blue cotton dress from Northwind, made for women. Made for casual wear. "
        "A good pick for summer. Available in size M.",
        "meta_description": "Northwind Women Navy Blue Cotton Dress, size M, for casual wear in summer.",
        "price": "45.00",
        "currency": "GBP",
    }
    facts.update(changes)
    return facts


BOOTS = dress(
    title="Calder Women Brown Suede Boots",
    category="Shoes > Women > Boots",
    attributes={
        "brand": "Calder",
        "gender": "Women",
        "colour": "Brown",
        "material": "Suede",
        "article_type": "Boots",
        "size": "UK 5",
        "season": "Winter",
        "usage": "Formal",
    },
    description="A pair of brown suede boots from Calder, made for women. Wear them through winter.",
    meta_description="Calder Women Brown Suede Boots, size UK 5, for formal wear in winter.",
    price="149.99",
)


def passes(text: str, facts: dict, kind: str = "description") -> bool:
    vocabulary = Vocabulary.from_facts([dress(), BOOTS])
    _clean, reasons = check_text(text, facts=facts, kind=kind, vocabulary=vocabulary, limits=Limits())
    return not reasons


# --- the targets -----------------------------------------------------------------------------------


def test_value_and_premium_descriptions_lead_with_their_segments_facts():
    facts = dress()
    value = segment_target(facts, "description", facts["description"], VALUE)
    premium = segment_target(facts, "description", facts["description"], PREMIUM)

    assert value.startswith("At £45.00, this navy blue dress is cotton, is made for casual wear and comes in size M.")
    assert premium.startswith("From Northwind, this navy blue dress is cotton.")
    # The shop's own sentences follow; those that only repeat what the lead said are left out.
    assert value.count("casual wear") == 1 and "A good pick for summer." in value
    assert "from Northwind, made for women" in value
    for text, focus in ((value, VALUE), (premium, PREMIUM)):
        assert leads_with(text, facts, focus)
        assert passes(text, facts)
    assert len({facts["description"], value, premium}) == 3


def test_targets_state_only_the_facts_a_product_has():
    no_price = dress(price=None, currency=None)
    lead = lead_sentence(no_price, VALUE)
    assert lead == "This navy blue dress is cotton, is made for casual wear and comes in size M."
    assert passes(lead, no_price)
    # Plural article types and sizes with numbers.
    boots = segment_target(BOOTS, "description", BOOTS["description"], VALUE)
    assert boots.startswith("At £149.99, these brown boots are suede, are made for formal wear and come in size UK 5.")
    assert passes(boots, BOOTS)
    # Nothing to lead with: no target of its own.
    assert segment_target(dress(attributes={"colour": "Red"}, price=None), "description", "A red dress.", VALUE) is None


def test_meta_descriptions_and_titles():
    facts = dress()
    value = segment_target(facts, "meta_description", facts["meta_description"], VALUE)
    assert value == "At £45.00: " + facts["meta_description"]
    assert passes(value, facts, "meta_description")
    # Already leads with the brand; titles name the product for every segment.
    assert segment_target(facts, "meta_description", facts["meta_description"], PREMIUM) is None
    assert segment_target(facts, "title", facts["title"], VALUE) is None


def test_training_pairs_carry_every_segments_target():
    facts = dress()
    data = pairs_from_facts([facts, BOOTS], segments=SEGMENTS, segment_share=0)
    assert data.by_segment == {"value": 4, "premium": 2}
    assert data.segment_dropped == 0
    by_prompt = {prompt.split("]")[0] + "]": completion for prompt, completion in data.pairs[:7]}
    value = by_prompt["[description|en|value]"]
    assert value.startswith(" At £45.00, this navy blue dress")
    premium_prompt = next(p for p, _c in data.pairs if p.startswith("[description|en|premium]"))
    assert premium_prompt == plain_prompt(facts, PromptContext("description", segment="premium", focus=PREMIUM))
    assert premium_prompt.startswith("[description|en|premium] brand=Northwind; material=Cotton;")
    for prompt, completion in data.pairs:
        kind = prompt[1:].split("|")[0]
        product = facts if "Northwind" in prompt else BOOTS
        assert passes(completion, product, kind), completion


def test_a_segment_the_shop_adds_leads_with_its_own_facts(settings):
    settings.OSCAR_LLM = {
        "SEGMENTS": {
            "default": {"label": "Everyone", "focus": []},
            "seasonal": {"label": "Seasonal shoppers", "focus": ["season", "colour"]},
            "value": {"label": "Thrifty", "focus": ["price"]},
        }
    }
    styles = segment_styles()
    assert styles["seasonal"].voice == "Lead with its season, colour."
    # A built-in segment the shop left without a voice keeps the default one.
    assert styles["value"].voice == SEGMENTS["value"]["voice"]
    facts = dress()
    data = pairs_from_facts([facts], ["description"], segment_share=0)
    seasonal = next(c for p, c in data.pairs if p.startswith("[description|en|seasonal]"))
    assert seasonal.startswith(" This navy blue dress suits summer.")
    thrifty = next(c for p, c in data.pairs if p.startswith("[description|en|value]"))
    assert thrifty.startswith(" This navy blue dress costs £45.00.")
    messages = chat_messages(facts, PromptContext("description", segment="seasonal", focus=("season", "colour")))
    assert "'Seasonal shoppers' customer segment. Lead with its season, colour." in messages[0]["content"]


def test_chat_prompts_say_how_a_segment_is_addressed():
    system = chat_messages(dress(), PromptContext("description", segment="value", focus=VALUE))[0]["content"]
    assert segment_style("value").voice in system
    assert "segment" not in chat_messages(dress(), PromptContext("description"))[0]["content"]


def test_what_a_text_states():
    assert fact_stated("Yours for £45.00.", "price", "45.00 GBP")
    assert not fact_stated("Yours for £44.99.", "price", "45.00 GBP")
    assert fact_stated("It comes in size M.", "size", "M") and not fact_stated("I'm here.", "size", "M")
    assert fact_stated("Made for casual wear.", "usage", "Casual")
    assert fact_stated("A pair of jeans from Pebble &amp; Pine.", "brand", "Pebble & Pine")
    assert sentences("<p>One. Two is 4.50 GBP.</p> Three!") == ["One.", "Two is 4.50 GBP.", "Three!"]


# --- from the shop's database: supplier-feed products are never targets ------------------------------


@pytest.mark.django_db
def test_supplier_feed_products_are_never_training_targets(make_product):
    written = make_product(description="A navy blue cotton dress from Northwind, made for women.")
    make_product("PP DRS VSC CHRCL L", description="", colour="Charcoal", material="Viscose", size="L")
    make_product("PP DRS CTN BLK M", description="<p> </p>", colour="Black")

    data = pairs_from_database(segment_share=1.0)

    assert data.skipped_products == {"no_written_copy": 2}
    text = " ".join(prompt + completion for prompt, completion in data.pairs)
    assert "PP DRS" not in text and "Charcoal" not in text
    assert {completion for _p, completion in data.pairs if _p.startswith("[title|")} == {" " + written.title}
    assert data.by_segment["value"] >= 1 and data.by_segment["premium"] >= 1
    assert data.summary()["skipped_products"] == {"no_written_copy": 2}

    # Products copy is about to be written for can be left out too.
    assert len(pairs_from_database(exclude_ids=[written.pk])) == 0


# --- the figures and the dashboard ----------------------------------------------------------------------


def test_variant_figures():
    facts = dress()
    supplier = dress(title="PP DRS", description="")
    styles = segment_styles(SEGMENTS)
    value = segment_target(facts, "description", facts["description"], VALUE)
    premium = segment_target(facts, "description", facts["description"], PREMIUM)
    variants = [
        Variant(1, "default", facts["description"], facts),
        Variant(1, "value", value, facts),
        Variant(1, "premium", premium, facts),
        # The same text for two segments, and a value variant that states none of its facts.
        Variant(2, "default", "A dress from Northwind.", supplier),
        Variant(2, "value", "A dress from Northwind.", supplier),
        Variant(2, "premium", "From Northwind, a dress.", supplier),
        Variant(3, "default", "Only one segment has copy.", supplier),
    ]
    figures = variant_figures(variants, styles)
    assert (figures["products_with_variants"], figures["products_distinct"], figures["distinct_share"]) == (2, 1, 0.5)
    assert figures["products_with_every_segment"] == 2
    assert (figures["segment_variants"], figures["stating_lead_fact"], figures["leading_with_first_fact"]) == (4, 3, 3)
    assert figures["by_segment"]["value"] == {
        "variants": 2,
        "stating": 1,
        "leading": 1,
        "stating_share": 0.5,
        "leading_share": 0.5,
    }
    assert figures["by_source"]["written"]["distinct_share"] == 1.0
    assert figures["by_source"]["supplier_feed"]["distinct_share"] == 0.0


@pytest.mark.django_db
def test_history_page_shows_the_variants_side_by_side(client, staff_user, make_product):
    product = make_product()
    facts = product_facts(product)
    texts = {
        "default": "A navy blue cotton dress from Northwind.",
        "value": "At £45.00, this navy blue dress is cotton.",
        "premium": "A navy blue dress for summer.",
    }
    for segment, text in texts.items():
        ContentDraft.objects.create(product=product, kind="description", segment=segment, text=text, facts=facts)
    ContentDraft.objects.create(
        product=product, kind="description", segment="premium", text="Rejected text", facts=facts, status="rejected"
    )
    client.force_login(staff_user)

    response = client.get(reverse("oscar_llm_dashboard:product-history", kwargs={"product_pk": product.pk}))

    html = response.content.decode()
    assert 'data-oscar-llm="variants"' in html
    [row] = response.context["variant_rows"]
    cells = {cell["segment"]: cell for cell in row["cells"]}
    assert {s: c["draft"].text for s, c in cells.items()} == texts
    assert cells["default"]["leads"] == []
    value = {fact["key"]: fact["stated"] for fact in cells["value"]["leads"]}
    assert value == {"price": True, "material": True, "usage": False, "size": False}
    premium = {fact["key"]: fact["stated"] for fact in cells["premium"]["leads"]}
    assert premium == {"brand": False, "material": False}
    table = html.split('data-oscar-llm="variants"', 1)[1].split("</table>", 1)[0]
    assert 'data-fact="price" data-stated="true"' in table and 'data-fact="brand" data-stated="false"' in table
    assert "Rejected text" not in table  # still listed with the product's drafts below
    columns = {column["segment"]: column for column in response.context["variant_columns"]}
    assert columns["value"]["leads"][0] == ("price", "45.00 GBP")
    assert "Leads with" in table

    # The figures read the same drafts.
    figures = segment_figures()
    assert figures["products_with_variants"] == 1 and figures["distinct_share"] == 1.0
