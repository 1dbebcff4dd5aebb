"""Training pairs from the shop's own products (titles, descriptions, meta descriptions)."""

from __future__ import annotations

import pytest

from oscar_llm.content.training_data import pairs_from_database


@pytest.mark.django_db
def test_pairs_from_the_shop_products(make_product):
    dress = make_product()
    dress.meta_description = "Northwind women's navy blue cotton dress."
    dress.save()
    make_product(
        "Tarn Men Black Wool Shirt",
        category="Men > Clothing > Shirts",
        description="A black wool shirt for men.",
        brand="Tarn",
        gender="Men",
        colour="Black",
        material="Wool",
    )
    # Says black, but this dress is navy blue: neither its title nor its description is learned.
    make_product("Northwind Women Black Cotton Dress", description="A black cotton dress.")

    data = pairs_from_database(segment_share=0, segments={"default": {"focus": []}})

    assert data.by_kind == {"title": 2, "description": 2, "meta_description": 1}
    assert data.dropped == 2 and data.drop_reasons == {"colour": 2}
    prompts = [p for p, _ in data.pairs]
    assert prompts[0].startswith("[title|en|default] brand=Northwind; gender=Women; colour=Navy Blue;")
    assert "price=45.00 GBP" in prompts[0]
    assert "Black Cotton Dress" not in " ".join(c for _, c in data.pairs)
    assert (prompts[2].split("]")[0], data.pairs[2][1]) == (
        "[meta_description|en|default",
        " " + dress.meta_description,
    )
