"""Training pairs come from the generation prompt code and never teach a contradiction."""

from __future__ import annotations

import csv

from oscar_llm.catalogue import Vocabulary, facts_from_fashion_row
from oscar_llm.content.prompts import PromptContext, plain_prompt
from oscar_llm.content.training_data import pairs_from_catalogue_csv, pairs_from_facts

FIELDS = ["id", "gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "year", "usage"]


def row(id_, gender, article, colour, title, sub="Topwear"):
    return dict(
        zip(
            [*FIELDS, "productDisplayName"],
            [str(id_), gender, "Apparel", sub, article, colour, "Summer", "2012", "Casual", title],
            strict=True,
        )
    )


ROWS = [
    row(1, "Men", "Shirts", "Navy Blue", "Turtle Men Navy Blue Shirt"),
    row(2, "Women", "Tops", "Red", "Jealous 21 Women Red Top"),
    row(6, "Men", "Jeans", "Blue", "Peter England Men Blue Jeans", sub="Bottomwear"),
    row(3, "Men", "Shirts", "Red", "Arrow Men Blue Shirt"),  # says Blue, is Red
    row(4, "Men", "Socks", "Black", "Puma Men Pack of 3 Socks", sub="Socks"),  # a number not in the facts
    row(5, "Women", "Tops", "Black", "Arrow Men Black Top"),  # says Men, is Women
]


def test_targets_that_contradict_their_facts_are_dropped():
    facts = [facts_from_fashion_row(r) for r in ROWS]
    data = pairs_from_facts(facts, ["title"], Vocabulary.from_facts(facts), segment_share=0)
    assert data.kept == 3 and data.dropped == 3
    assert data.drop_reasons == {"colour": 1, "number": 1, "gender": 1}
    completions = [c for _, c in data.pairs]
    assert completions == [" Turtle Men Navy Blue Shirt", " Jealous 21 Women Red Top", " Peter England Men Blue Jeans"]
    # The prompt is exactly what generation renders for the same facts.
    assert data.pairs[0][0] == plain_prompt(facts[0], PromptContext(kind="title"))
    assert data.summary()["dropped_targets"] == 3


def test_description_and_meta_description_pairs():
    facts = facts_from_fashion_row(ROWS[0])
    facts["description"] = "A navy blue shirt in cotton-rich fabric for casual days."
    facts["meta_description"] = "Turtle men's navy blue casual shirt."
    data = pairs_from_facts([facts], segment_share=0, segments={"default": {"focus": []}})
    assert data.by_kind == {"title": 1, "description": 1, "meta_description": 1}
    prompts = [p for p, _ in data.pairs]
    assert prompts[1].startswith("[description|en|default]")
    # The model writes from the facts, not from the current title (a supplier's may be a code).
    assert "title=" not in prompts[1]
    assert prompts[2].startswith("[meta_description|en|default]")


def test_some_prompts_use_other_segments(settings):
    settings.OSCAR_LLM = {
        "SEGMENTS": {
            "default": {"label": "Everyone", "focus": []},
            "premium": {"label": "Premium", "focus": ["brand", "colour"]},
        }
    }
    facts = [facts_from_fashion_row(ROWS[0])]
    data = pairs_from_facts(facts, ["title"], segment_share=1.0)
    assert data.augmented == 1
    [default, premium] = data.pairs
    assert default[1] == premium[1]
    assert premium[0] == plain_prompt(facts[0], PromptContext("title", segment="premium", focus=("brand", "colour")))
    assert premium[0].startswith("[title|en|premium] brand=Turtle; colour=Navy Blue;")


def test_catalogue_csv_keeps_held_out_rows_out(tmp_path):
    path = tmp_path / "catalogue.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*FIELDS, "productDisplayName"])
        writer.writeheader()
        writer.writerows(ROWS)
    data = pairs_from_catalogue_csv(path, skip_first=1, segment_share=0)
    assert [c for _, c in data.pairs] == [" Jealous 21 Women Red Top", " Peter England Men Blue Jeans"]
    assert data.dropped == 3
