"""generate -> check -> retry, and the evaluation's independent contradiction audit."""

from __future__ import annotations

from oscar_llm.catalogue import Vocabulary
from oscar_llm.content.checks import Limits
from oscar_llm.content.generation import Outcome, fact_title, generate_checked
from oscar_llm.content.prompts import PromptContext
from oscar_llm.evaluation.content import ContradictionAudit
from oscar_llm.llm.base import GenerationOptions, GenerationRequest


def facts(brand, gender, colour, article):
    return {
        "title": f"{brand} {gender} {colour} {article}",
        "category": f"Apparel > {article}",
        "attributes": {"brand": brand, "gender": gender, "colour": colour, "article_type": article},
    }


ITEMS = [facts("Puma", "Men", "Red", "Shirts"), facts("Titan", "Women", "Black", "Watches")]
VOCAB = Vocabulary.from_facts([*ITEMS, facts("Nike", "Boys", "Blue", "Tshirts")])


class ScriptedGenerator:
    """A TextGenerator whose answers are fixed per prompt and mode (greedy / sampled)."""

    model_id = "scripted"

    def __init__(self, greedy: dict[str, str], sampled: dict[str, list[str]]) -> None:
        self.greedy, self.sampled = greedy, sampled
        self.calls: list[tuple[list[GenerationRequest], GenerationOptions]] = []

    def generate(self, requests, options):
        self.calls.append((requests, options))
        out = []
        for r in requests:
            key = next(k for k in {**self.greedy, **self.sampled} if f"brand={k}" in r.prompt)
            out.append(self.sampled[key][: options.num_candidates] if options.do_sample else [self.greedy[key]])
        return out


def run(gen, retry_candidates=3, pattern_fallback=False, kind="title"):
    ctx = PromptContext(kind=kind, max_length=90)
    return generate_checked(
        gen,
        [(f, ctx) for f in ITEMS],
        VOCAB,
        lambda c: Limits(max_length=c.max_length),
        retry_candidates=retry_candidates,
        pattern_fallback=pattern_fallback,
    )


def test_passing_greedy_texts_are_not_retried():
    gen = ScriptedGenerator({"Puma": "Puma Men Red Shirt", "Titan": "Titan Women Black Watch"}, {})
    assert run(gen) == [Outcome("Puma Men Red Shirt", True, [], 1), Outcome("Titan Women Black Watch", True, [], 1)]
    assert len(gen.calls) == 1 and gen.calls[0][1].do_sample is False
    assert gen.calls[0][0][0].max_new_tokens == 32  # the title budget from OSCAR_LLM["GENERATION"]


def test_failures_are_retried_with_sampled_candidates():
    gen = ScriptedGenerator(
        {"Puma": "Puma Men Blue Shirt", "Titan": "Titan Women Black Watch"},
        {"Puma": ["Puma Boys Red Shirt", "Puma Men Red Shirt", "Puma Men Red Casual Shirt"]},
    )
    first, second = run(gen)
    assert first == Outcome("Puma Men Red Shirt", True, [], 3)  # greedy + two sampled
    assert second.accepted and second.candidates_tried == 1
    retry_requests, retry_options = gen.calls[1]
    assert len(retry_requests) == 1 and retry_options.do_sample and retry_options.num_candidates == 3


def test_texts_that_never_pass_keep_the_first_draft_and_its_reasons():
    gen = ScriptedGenerator(
        {"Puma": "Puma Men Blue Shirt", "Titan": "Titan Women Black Watch"},
        {"Puma": ["Puma Boys Red Shirt", "Puma Men Blue Shirt", "Nike Men Red Shirt"]},
    )
    first, _ = run(gen)
    assert not first.accepted
    assert first.text == "Puma Men Blue Shirt"
    assert [r["check"] for r in first.reasons] == ["colour"]
    assert first.candidates_tried == 4


def test_retries_can_be_turned_off():
    gen = ScriptedGenerator({"Puma": "Puma Men Blue Shirt", "Titan": "Titan Women Black Watch"}, {})
    first, _ = run(gen, retry_candidates=0)
    assert not first.accepted and len(gen.calls) == 1


def test_a_title_the_model_never_gets_right_is_filled_from_the_facts_and_says_so():
    gen = ScriptedGenerator(
        {"Puma": "Puma Men Blue Shirt", "Titan": "Titan Women Black Watch"},
        {"Puma": ["Puma Boys Red Shirt", "Nike Men Red Shirt"]},
    )
    first, second = run(gen, pattern_fallback=True)
    assert first == Outcome("Puma Men Red Shirt", True, [], 3, source="pattern")
    assert second == Outcome("Titan Women Black Watch", True, [], 1)  # the model's own passing title
    assert fact_title(facts("Titan", "Women", "Black", "Watches")) == "Titan Women Black Watch"
    assert fact_title({"attributes": {"gender": "Women", "colour": "Red", "article_type": "Lip Gloss"}}) == (
        "Women Red Lip Gloss"
    )
    assert fact_title({"attributes": {"brand": "Puma"}}) == ""  # no article type, no pattern


def test_the_pattern_must_pass_the_checks_too():
    # A description the model gets wrong becomes one sentence of facts.
    gen = ScriptedGenerator({"Puma": "A blue shirt by Puma.", "Titan": "A black watch by Titan for women."}, {})
    first, second = run(gen, retry_candidates=0, pattern_fallback=True, kind="description")
    assert first == Outcome("This red shirt is by Puma.", True, [], 1, source="pattern")
    assert second == Outcome("A black watch by Titan for women.", True, [], 1)
    wrong_facts = {**facts("Puma", "Men", "Red", "Shirts"), "title": ""}
    wrong_facts["attributes"]["colour"] = "Navy Blue Red"  # a pattern that states no single true colour
    ctx = PromptContext(kind="title", max_length=10)  # and that is too long for the limit
    [outcome] = generate_checked(
        ScriptedGenerator({"Puma": "x"}, {}), [(wrong_facts, ctx)], VOCAB, Limits(max_length=10), retry_candidates=0
    )
    assert not outcome.accepted and outcome.source == "model"


def test_audit_counts_other_values_of_the_catalogue():
    rows = [
        {"gender": "Men", "baseColour": "Navy Blue", "articleType": "Tshirts"},
        {"gender": "Women", "baseColour": "Red", "articleType": "Shirts"},
        {"gender": "Unisex", "baseColour": "Blue", "articleType": "Watches"},
    ]
    audit = ContradictionAudit(rows)
    men_tee = rows[0]
    assert audit.contradictions("Puma Men Navy Blue T-shirt", men_tee) == []
    assert audit.contradictions("Puma Men's Blue Tshirts", men_tee) == []  # vaguer, not false
    assert audit.contradictions("Red Tape Men Navy Blue T-shirt", men_tee, brand="Red Tape") == []
    assert audit.contradictions("Puma Women Navy Blue T-shirt", men_tee) == ["gender: states 'Women', row has 'Men'"]
    assert audit.contradictions("Puma Men Red Shirt", men_tee) == [
        "colour: states 'Red', row has 'Navy Blue'",
        "article_type: states 'Shirts', row has 'Tshirts'",
    ]
    assert audit.contradictions("Fossil Men Blue Watch", rows[2]) == ["gender: states 'Men', row has 'Unisex'"]
