"""Every fact a support draft states must come from the customer's orders or the shop's policies."""

from __future__ import annotations

from oscar_llm.demo.knowledge_base import article_facts
from oscar_llm.support.checks import check_draft
from oscar_llm.support.facts import GatheredFacts
from tests.support.helpers import order_fact

ARTICLES = {a.title: a for a in article_facts()}
CONTACT = [a for a in article_facts() if "contact" in a.tags]
ORDER = order_fact()


def facts(*titles: str, orders=(ORDER,), name: str = "Jane") -> GatheredFacts:
    return GatheredFacts(
        customer_name=name,
        orders=tuple(orders),
        linked_order_numbers=(ORDER.number,),
        articles=[ARTICLES[t] for t in titles],
        contact_articles=CONTACT,
    )


def failed(result) -> set[str]:
    return {c["name"] for c in result.checks if not c["passed"]}


def test_grounded_draft_passes_with_citations():
    gathered = facts("Returns policy", "Refunds")
    template = (
        "Dear {{Customer Name}}, you can return the Navy Linen Shirt from order {{Order Number}} within 30 days of "
        "delivery. We refund it within 5 to 10 business days of receiving your return. Call us on "
        "{{Customer Support Phone Number}} if you need help."
    )
    text, citations, unfilled = gathered.fill(template)
    assert unfilled == []
    assert "order 100023" in text and "+44 20 7946 0000" in text and text.startswith("Dear Jane,")
    result = check_draft(
        text, gathered, "can I return my shirt?", filled_spans=[(c["start"], c["end"]) for c in citations]
    )
    assert result.passed, result.failures
    order_cite = next(c for c in citations if c["kind"] == "order")
    assert text[order_cite["start"] : order_cite["end"]] == "100023"
    policy = [c for c in result.citations if c["kind"] == "article" and c["title"] == "Returns policy"]
    assert policy and text[policy[0]["start"] : policy[0]["end"]] == "30 days"
    assert "30 days" in policy[0]["quote"]


def test_order_of_another_customer_is_rejected():
    result = check_draft(
        "Your order 100099 has been dispatched and is on its way.", facts("Delivery times and tracking")
    )
    assert "order_numbers" in failed(result)
    assert "100099" in result.failures[0]


def test_unfillable_placeholder_is_rejected():
    gathered = facts("Cancelling an order", orders=())
    text, _, unfilled = gathered.fill("Click {{Cancel Order}} next to order {{Order Number}}.")
    assert unfilled == ["Cancel Order", "Order Number"]
    assert "placeholders" in failed(check_draft(text, gathered))


def test_policy_statements_must_match_the_policies():
    gathered = facts("Returns policy")
    assert "policy_statements" in failed(check_draft("You can return items within 14 days of delivery.", gathered))
    assert "policy_statements" not in failed(check_draft("You can return items within 30 days of delivery.", gathered))


def test_amounts_and_dates_must_be_facts():
    gathered = facts("Shipping options and costs")
    ok = check_draft(
        "UK standard delivery is free on orders over £50; your order of 2026-11-02 cost 59.90 GBP.", gathered
    )
    assert not failed(ok) - {"language"}, ok.failures
    bad = check_draft("Delivery costs £2.50 and your order was placed on 2026-10-30.", gathered)
    assert {"amounts", "dates"} <= failed(bad)


def test_promises_outside_policy_are_rejected():
    gathered = facts("Delivery times and tracking")
    assert "promises" in failed(check_draft("We will give you a discount voucher for the delay.", gathered))
    assert "promises" in failed(check_draft("We will refund everything you ever bought.", facts("Refunds")))
    # A refund promise is fine where a refund policy was retrieved, and a refusal promises nothing.
    assert "promises" not in failed(
        check_draft("We refund returned items to the original payment method.", facts("Refunds"))
    )
    assert "promises" not in failed(check_draft("We do not offer discounts in place of a refund.", gathered))


def test_markup_is_removed_and_scripts_fail():
    result = check_draft("<p>Hello Jane,</p><script>alert(1)</script> your parcel is on its way.", facts())
    assert "html" in failed(result)
    assert "<" not in result.text and "alert" not in result.text


def test_cut_off_and_repetitive_text_fails_length():
    assert "length" in failed(check_draft("Thank you for reaching out about your order and", facts()))
    assert "length" in failed(check_draft("Please follow these steps:\n\n1. Log in to your account.\n2.", facts()))
    looping = "We are here to help you with that today. " * 3
    assert "length" in failed(check_draft(looping.strip(), facts()))


# -- through the whole pipeline ------------------------------------------------------------------


def test_pipeline_fills_cites_and_accepts_a_grounded_reply():
    from oscar_llm.support.types import DraftRequest
    from tests.support.helpers import ScriptedGenerator, drafter, order_fact

    generator = ScriptedGenerator(
        "Your order {{Order Number}} was dispatched and its tracking number is {{Tracking Number}}. "
        "You can follow it in the {{Order History}} of your account."
    )
    result = drafter(generator).draft(
        DraftRequest(
            subject="Where is my parcel?",
            customer_text="Can you track my order for me? I want to know where it is.",
            customer_name="Jane Doe",
            orders=(order_fact(),),
            linked_order_numbers=("100023",),
        )
    )
    assert result.intent in {"track_order", "delivery_period"} and 0 < result.intent_confidence <= 1
    assert not result.needs_human, result.reasons
    assert "order 100023" in result.text and "RM123456789GB" in result.text and "Order History" in result.text
    spans = {result.text[c["start"] : c["end"]] for c in result.citations if c["kind"] == "order"}
    assert {"100023", "RM123456789GB"} <= spans
    assert result.articles and result.articles[0]["title"] == "Delivery times and tracking"
    assert set(result.timings) >= {"triage", "retrieval", "prompt", "generate", "checks", "total"}
    assert result.prompt_version == "support-v1" and result.model_id == "scripted"


def test_pipeline_rejects_a_draft_naming_another_customers_order():
    from oscar_llm.support.types import DraftRequest
    from tests.support.helpers import ScriptedGenerator, drafter, order_fact

    generator = ScriptedGenerator("Your order 100099 was dispatched yesterday and will arrive soon.")
    result = drafter(generator).draft(
        DraftRequest(
            subject="Order status",
            customer_text="What is the status of order 100099?",
            orders=(order_fact(),),
            linked_order_numbers=("100023",),
        )
    )
    assert result.needs_human and result.text == ""
    assert any("100099 is not one of this customer's orders" in r for r in result.reasons)
    assert result.candidate.startswith("Your order 100099")  # kept for staff, never as the draft
    # Greedy, then the sampled retries: every candidate was checked.
    assert result.candidates_tried == 3


def test_low_confidence_needs_a_human_even_when_checks_pass():
    from oscar_llm.support.types import DraftRequest
    from tests.support.helpers import ScriptedGenerator, drafter

    generator = ScriptedGenerator("UK standard delivery costs £3.95 and is free on orders over £50.")
    request = DraftRequest(subject="", customer_text="what does shipping cost?")
    relaxed = drafter(generator, min_confidence=0.0).draft(request)
    strict = drafter(generator, min_confidence=0.99).draft(request)
    assert not relaxed.needs_human, relaxed.reasons
    assert strict.needs_human and strict.text == "" and "below 0.99" in strict.reasons[-1]
    assert strict.articles == relaxed.articles and strict.articles
