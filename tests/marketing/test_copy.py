"""Campaign copy: the patterns, the model's names and the checks that judge every email."""

from __future__ import annotations

from datetime import date

import pytest

from oscar_llm.catalogue import Vocabulary
from oscar_llm.marketing.checks import check_email, check_offer_terms
from oscar_llm.marketing.copy import campaign_facts, compose, fill_slots, write_emails

SHIRT = {
    "title": "Arrow Men Navy Blue Shirt",
    "attributes": {
        "gender": "Men",
        "colour": "Navy Blue",
        "article_type": "Shirts",
        "brand": "Arrow",
        "usage": "Casual",
    },
    "category": "Apparel > Topwear > Shirts",
    "price": "40.00",
    "currency": "GBP",
}
OTHERS = [
    {"title": "Puma Women Red Dress", "attributes": {"gender": "Women", "colour": "Red", "article_type": "Dresses"}},
    {"title": "Titan Men Black Watch", "attributes": {"gender": "Men", "colour": "Black", "article_type": "Watches"}},
]


@pytest.fixture
def vocabulary() -> Vocabulary:
    return Vocabulary.from_facts([SHIRT, *OTHERS])


def facts(percent=20, product=SHIRT):
    return campaign_facts(
        product, goal="offer", segment="lapsing", percent=percent, start=date(2026, 12, 10), end=date(2026, 12, 20)
    )


def as_rendered(email):
    return {
        "subject": email.subject,
        "preheader": email.preheader,
        "headline": email.headline,
        "cta": email.cta,
        "body_html": fill_slots(email.body_html, {"first_name": "Ann"}, as_html=True),
    }


def test_pattern_email_states_the_offer_and_passes(vocabulary):
    f = facts()
    email = compose(f, SHIRT["title"], 0, segment="lapsing")
    assert "20% off" in email.subject and len(email.subject) <= 60
    assert "£32.00 instead of £40.00" in email.body_text
    assert "10 December 2026" in email.body_text and "20 December 2026" in email.body_text
    assert "a navy blue shirt for men" in email.body_text
    assert check_email(as_rendered(email), f, vocabulary) == []


def test_a_discount_the_offer_does_not_give_is_rejected_with_its_reason(vocabulary):
    f = facts(percent=20)
    email = as_rendered(compose(f, SHIRT["title"], 0))
    email["subject"] = "30% off the Arrow Men Navy Blue Shirt"
    reasons = check_email(email, f, vocabulary)
    assert {"check": "discount", "message": "states 30% off but the offer gives 20%"} in reasons


def test_prices_dates_and_half_price_not_in_the_facts_are_rejected():
    f = facts(percent=20)
    checks = {r["check"] for r in check_offer_terms("Now £19.99 until 24 December. Half price!", f)}
    assert checks == {"price", "date", "discount"}
    assert check_offer_terms("Now £32.00 until 20 December.", f) == []


def test_a_colour_gender_or_type_contradicting_the_product_is_rejected(vocabulary):
    f = facts()
    email = as_rendered(compose(f, SHIRT["title"], 0))
    email["headline"] = "A red dress for women"
    checks = {r["check"] for r in check_email(email, f, vocabulary)}
    assert {"colour", "gender", "article_type"} <= checks


def test_spam_long_subject_markup_and_broken_language_are_rejected(vocabulary):
    f = facts()
    email = as_rendered(compose(f, SHIRT["title"], 0))
    email["subject"] = "Act now!! " + "x" * 60
    email["body_html"] = '<p>Look at the the shirt shirt <a href="http://x">here</a> and</p>'
    checks = {r["check"] for r in check_email(email, f, vocabulary)}
    assert {"spam", "subject", "html", "fluency"} <= checks


def test_product_names_with_markup_are_escaped_in_the_email():
    product = {**SHIRT, "title": 'Arrow <script>alert("x")</script> Shirt'}
    email = compose(facts(product=product), product["title"], 0)
    assert "<script>" not in email.body_html
    assert "&lt;script&gt;" in email.body_html
    html = fill_slots(email.body_html, {"first_name": "<b>Eve</b>"}, as_html=True)
    assert "<b>Eve</b>" not in html and "&lt;b&gt;Eve&lt;/b&gt;" in html


def test_no_percentage_means_a_new_in_email_without_a_discount(vocabulary):
    f = campaign_facts(SHIRT, goal="offer", segment="new")
    email = compose(f, SHIRT["title"], 1)
    assert "%" not in email.subject + email.body_text
    assert check_email(as_rendered(email), f, vocabulary) == []


class Parrot:
    """A generator that answers what it is told to (a stand-in for a model's bad output in a unit test)."""

    model_id = "parrot"

    def __init__(self, answers):
        self.answers = answers

    def generate(self, requests, options):
        return [[self.answers[i % len(self.answers)]] * options.num_candidates for i in range(len(requests))]


def test_a_model_name_that_fails_the_checks_falls_back_to_the_title(vocabulary):
    f = facts()
    [emails] = write_emails(Parrot(["Zorblax Women Red Dress"]), [(f, ["lapsing"])], vocabulary, variants=2)
    assert len(emails) == 2 and all(e.accepted for e in emails)
    assert {e.sources["name"] for e in emails} == {"title"}
    assert "Zorblax" not in emails[0].subject
    [emails] = write_emails(Parrot(["Arrow Navy Blue Shirt"]), [(f, ["lapsing"])], vocabulary, variants=2)
    assert emails[0].sources["name"] == "model" and "Arrow Navy Blue Shirt" in emails[0].headline
    assert emails[0].subject != emails[1].subject


def test_a_model_name_with_a_doubled_word_or_another_gender_falls_back(vocabulary):
    f = facts()
    for bad in ("Arrow Men's Men's Navy Blue Shirt", "Arrow Miss's Navy Blue Shirt"):
        [emails] = write_emails(Parrot([bad]), [(f, ["lapsing"])], vocabulary, variants=1)
        assert emails[0].sources["name"] == "title", bad


def test_plural_names_take_a_plural_verb(vocabulary):
    shoes = {
        "title": "Arrow Men Black Casual Shoes",
        "attributes": {"gender": "Men", "colour": "Black", "article_type": "Casual Shoes", "brand": "Arrow"},
        "price": "50.00",
    }
    email = compose(facts(product=shoes), shoes["title"], 0)
    assert "the Arrow Men Black Casual Shoes are 20% off" in email.body_text
    assert "a pair of black casual shoes for men" in email.body_text


def test_a_model_name_with_another_brand_falls_back():
    vocabulary = Vocabulary.from_facts([SHIRT, *OTHERS, {"title": "Puma Shirt", "attributes": {"brand": "Puma"}}])
    [emails] = write_emails(
        Parrot(["Arrow Puma Men Navy Blue Shirt"]), [(facts(), ["lapsing"])], vocabulary, variants=1
    )
    assert emails[0].sources["name"] == "title"
