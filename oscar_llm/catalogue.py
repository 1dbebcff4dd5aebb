"""Product -> facts: the only things a prompt may state, read in one place for every feature.

Content, recommendations, product questions and marketing all read a product through
``product_facts``; ``facts_text`` is the one plain-text rendering (what a shopper would read),
which recommendations embed. ``catalogue_vocabulary`` is every attribute value the catalogue
uses, so a check can tell a value of another product from a word that is no value at all. Facts
are plain dicts so the same prompts and checks serve shop products, rows of a catalogue CSV
(training and evaluation) and tests::

    {"title": "...", "product_class": "...", "category": "Women > Clothing > Dresses",
     "attributes": {"brand": "...", "gender": "...", "colour": "...", "article_type": "...", ...},
     "price": "45.00", "currency": "GBP", "in_stock": True, "description": "..."}
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .guardrails.text import normalise

# Attribute codes used across the plugin, and the names other catalogues use for them.
ATTRIBUTE_ALIASES: dict[str, str] = {
    "color": "colour",
    "basecolour": "colour",
    "base_colour": "colour",
    "colour": "colour",
    "articletype": "article_type",
    "article_type": "article_type",
    "gender": "gender",
    "material": "material",
    "fabric": "material",
    "size": "size",
    "brand": "brand",
    "season": "season",
    "usage": "usage",
    "mastercategory": "master_category",
    "subcategory": "sub_category",
    "year": "year",
}

# Attributes whose values are checked against the rest of the catalogue.
CHECKED_ATTRIBUTES = ("colour", "gender", "material", "article_type", "brand", "size")

# Order in which facts are put in a prompt (segments may move some first).
FACT_ORDER = (
    "brand",
    "gender",
    "colour",
    "material",
    "article_type",
    "usage",
    "season",
    "size",
    "category",
    "product_class",
    "price",
)

GENDER_WORDS = ("Men", "Women", "Boys", "Girls", "Unisex")
# Words that end the brand at the start of a retailer title ("Gini and Jony Boy's ...").
_BRAND_STOP = {"men", "women", "boy", "boys", "girl", "girls", "unisex", "kids", "mens", "womens", "man", "woman"}


def normalise_attribute_code(code: str) -> str:
    key = re.sub(r"[^a-z_]", "", code.lower())
    return ATTRIBUTE_ALIASES.get(key, ATTRIBUTE_ALIASES.get(key.replace("_", ""), key))


def product_facts(product: Any) -> dict[str, Any]:
    """Read the facts of an Oscar product (a few queries; runs in workers)."""
    from oscar.core.loading import get_class

    attributes: dict[str, str] = {}
    for value in product.get_attribute_values().select_related("attribute"):
        rendered = value.value_as_text
        if rendered not in (None, ""):
            attributes[normalise_attribute_code(value.attribute.code)] = str(rendered)
    category = product.get_categories().first()
    category_path = category.full_name if category else ""
    if category and "article_type" not in attributes:
        attributes["article_type"] = category.name
    facts: dict[str, Any] = {
        "title": product.title or "",
        "product_class": product.get_product_class().name if product.get_product_class() else "",
        "category": category_path,
        "attributes": attributes,
        "description": product.description or "",
        "price": None,
        "currency": None,
        "in_stock": None,
    }
    Selector = get_class("partner.strategy", "Selector")
    info = Selector().strategy().fetch_for_product(product)
    if info.price.exists:
        facts["price"] = f"{info.price.excl_tax:.2f}"
        facts["currency"] = info.price.currency
    facts["in_stock"] = bool(info.availability.is_available_to_buy)
    from .adapter import get_adapter

    return get_adapter().product_facts(product, facts)


def brand_from_title(title: str) -> str:
    """The words before the gender word of a retailer title ("Peter England Men ..." -> "Peter England")."""
    words = title.split()
    for i, word in enumerate(words):
        key = re.sub(r"['’]s$", "", word.lower())
        if key in _BRAND_STOP:
            return " ".join(words[:i]) if i > 0 else ""
    return ""


def facts_from_fashion_row(row: dict[str, str]) -> dict[str, Any]:
    """Facts from a row of a fashion-format CSV (id, gender, masterCategory, ..., productDisplayName)."""
    title = (row.get("productDisplayName") or "").strip()
    attributes = {
        "gender": row.get("gender", ""),
        "colour": row.get("baseColour", ""),
        "article_type": row.get("articleType", ""),
        "season": row.get("season", ""),
        "usage": row.get("usage", ""),
    }
    brand = brand_from_title(title)
    if brand:
        attributes["brand"] = brand
    category = " > ".join(p for p in (row.get("masterCategory"), row.get("subCategory"), row.get("articleType")) if p)
    return {
        "title": title,
        "product_class": row.get("masterCategory", ""),
        "category": category,
        "attributes": {k: v.strip() for k, v in attributes.items() if v and v.strip() and v.strip() != "NA"},
        "description": "",
        "price": None,
        "currency": None,
        "in_stock": None,
    }


def prompt_facts(facts: dict[str, Any], kind: str) -> dict[str, str]:
    """The flat facts a prompt for ``kind`` may use: never the text being written."""
    flat: dict[str, str] = {}
    for key, value in (facts.get("attributes") or {}).items():
        if value not in (None, ""):
            flat[key] = str(value)
    for key in ("category", "product_class"):
        if facts.get(key):
            flat[key] = str(facts[key])
    if facts.get("price"):
        flat["price"] = f"{facts['price']} {facts.get('currency') or ''}".strip()
    if kind != "title" and facts.get("title"):
        flat["title"] = str(facts["title"])
    return flat


def ordered_items(flat: dict[str, str], focus: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Facts in a stable order, with the segment's focus first."""
    focus = [f for f in focus if f in flat]
    rest = [k for k in FACT_ORDER if k in flat and k not in focus]
    extra = sorted(k for k in flat if k not in focus and k not in rest)
    return [(k, flat[k]) for k in [*focus, *rest, *extra]]


def facts_hash(*parts: Any) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def facts_text(facts: dict[str, Any]) -> str:
    """The text a product's vector is computed from: what a shopper would read about it."""
    parts = [facts.get("title") or ""]
    if facts.get("category"):
        parts.append(facts["category"])
    attributes = facts.get("attributes") or {}
    parts += [f"{k.replace('_', ' ')}: {v}" for k, v in sorted(attributes.items()) if v]
    description = (facts.get("description") or "").strip()
    if description:
        parts.append(description[:400])
    return ". ".join(p for p in parts if p)


# -- the catalogue's vocabulary ----------------------------------------------------------------
#
# A text "states" an attribute value when one of the value's surface forms appears in it as
# whole words ("Navy Blue", "T-shirt" for "Tshirts", "men's" for "Men"). The content checks
# compare what a text states with the product's own facts; the vocabulary is every value the
# catalogue uses, so a value of another product is caught.


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def surface_forms(attribute: str, value: str) -> set[str]:
    base = normalise(value)
    if not base:
        return set()
    forms = {base}
    if attribute in ("article_type", "gender"):
        words = base.split()
        forms.add(" ".join([*words[:-1], _singular(words[-1])]))
        if not words[-1].endswith("s"):
            forms.add(" ".join([*words[:-1], words[-1] + "s"]))
    if attribute == "gender":
        forms |= {f + "s" for f in list(forms) if not f.endswith("s")}  # "mens", "womens"
    return {f for f in forms if f}


def split_values(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"\s*(?:/|,|\band\b)\s*", value) if v.strip()]


@dataclass
class Vocabulary:
    """attribute -> {surface form -> canonical value}."""

    forms: dict[str, dict[str, str]] = field(default_factory=dict)
    max_words: int = 1

    def add(self, attribute: str, value: str) -> None:
        if not value or attribute not in CHECKED_ATTRIBUTES:
            return
        table = self.forms.setdefault(attribute, {})
        for form in surface_forms(attribute, value):
            table.setdefault(form, value)
            self.max_words = max(self.max_words, len(form.split()))

    @classmethod
    def from_facts(cls, facts_list: Iterable[dict[str, Any]]) -> Vocabulary:
        vocab = cls()
        for facts in facts_list:
            for attribute, value in (facts.get("attributes") or {}).items():
                for part in split_values(str(value)) if attribute != "brand" else [str(value)]:
                    vocab.add(attribute, part)
        return vocab

    def values(self, attribute: str) -> set[str]:
        return set(self.forms.get(attribute, {}).values())

    def find(self, attribute: str, tokens: list[str], masked: set[int]) -> list[tuple[str, int, int]]:
        """(canonical value, start, end) of each mention in ``tokens``, longest match first."""
        table = self.forms.get(attribute) or {}
        found: list[tuple[str, int, int]] = []
        i = 0
        while i < len(tokens):
            hit = None
            for n in range(min(self.max_words, len(tokens) - i), 0, -1):
                span = range(i, i + n)
                if any(j in masked for j in span):
                    continue
                phrase = " ".join(tokens[i : i + n])
                if phrase in table:
                    hit = (table[phrase], i, i + n)
                    break
            if hit:
                found.append(hit)
                i = hit[2]
            else:
                i += 1
        return found


def catalogue_vocabulary() -> Vocabulary:
    """Every checked attribute value in the shop's catalogue (cached for a few minutes)."""
    from django.core.cache import cache
    from oscar.core.loading import get_model

    cached = cache.get("oscar_llm:vocabulary:v2")
    if cached is not None:
        return cached
    ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
    Category = get_model("catalogue", "Category")
    vocab = Vocabulary()
    rows = ProductAttributeValue.objects.values_list("attribute__code", "value_text").distinct()
    for code, value in rows:
        if value:
            attribute = normalise_attribute_code(code)
            for part in split_values(value) if attribute != "brand" else [value]:
                vocab.add(attribute, part)
    for name in Category.objects.filter(numchild=0).values_list("name", flat=True):
        vocab.add("article_type", name)
    cache.set("oscar_llm:vocabulary:v2", vocab, 300)
    return vocab
