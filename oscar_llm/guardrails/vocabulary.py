"""The catalogue's attribute values, and finding them in text.

A generated text "states" an attribute value when one of the value's surface
forms appears in it as whole words ("Navy Blue", "T-shirt" for "Tshirts",
"men's" for "Men"). The checks compare what a text states with the product's
own facts; the vocabulary is every value the catalogue uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import CHECKED_ATTRIBUTES

_NORM_SUBS = [
    (re.compile(r"['’]s\b"), ""),
    (re.compile(r"[^\w\s&]+"), " "),
    (re.compile(r"_"), " "),
    (re.compile(r"\bt\s+shirts?\b"), "tshirt"),
    (re.compile(r"\s+"), " "),
]


def normalise(text: str) -> str:
    text = text.lower()
    for pattern, repl in _NORM_SUBS:
        text = pattern.sub(repl, text)
    return text.strip()


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

    from ..catalogue import normalise_attribute_code

    cached = cache.get("oscar_llm:vocabulary:v1")
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
    cache.set("oscar_llm:vocabulary:v1", vocab, 300)
    return vocab
