"""Checks every product text passes before anyone can see it (docs/architecture.md, "Checks").

``check_text`` returns the sanitised text and a list of reasons; an empty list
means the text passed. Reasons are kept on rejected drafts so staff can see
why a text never reached the shop.

The checks that judge any text live in :mod:`oscar_llm.guardrails`; the ones here
compare a text with the product's own facts and the rest of the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import Vocabulary, prompt_facts, split_values, surface_forms
from ..guardrails.html import plain_text, sanitize_for_kind
from ..guardrails.language import language_problem
from ..guardrails.text import banned_word_problems, length_problems, normalise, repetition_problems, unknown_numbers

SIZE_RE = re.compile(r"\bsize[s]?\s*:?\s*([a-z0-9]+(?:\s*[a-z0-9]+)?)", re.IGNORECASE)

ATTRIBUTE_LABELS = {
    "colour": "colour",
    "gender": "gender",
    "material": "material",
    "article_type": "article type",
    "brand": "brand",
    "size": "size",
}


@dataclass
class Limits:
    max_length: int = 1200
    min_length: int = 3
    banned_words: list[str] = field(default_factory=list)
    language: str = "en"


def reason(check: str, message: str) -> dict[str, str]:
    return {"check": check, "message": message}


def check_numbers(text: str, flat_facts: dict[str, str]) -> list[dict[str, str]]:
    return [
        reason("number", f"States the number {raw}, which is not in the product's facts.")
        for raw in unknown_numbers(text, " ".join(flat_facts.values()))
    ]


def _compatible(attribute: str, stated: str, own_values: list[str]) -> bool:
    stated_forms = surface_forms(attribute, stated)
    for own in own_values:
        own_forms = surface_forms(attribute, own)
        if stated_forms & own_forms:
            return True
        # "Blue" for a "Navy Blue" product is vague, not false.
        own_words = set(normalise(own).split())
        if attribute == "colour" and set(normalise(stated).split()) <= own_words:
            return True
    return False


def check_attributes(text: str, facts: dict[str, Any], vocabulary: Vocabulary) -> list[dict[str, str]]:
    """Reject values of checked attributes that belong to other products, not this one."""
    tokens = normalise(text).split()
    attributes = {k: v for k, v in (facts.get("attributes") or {}).items() if v}
    masked: set[int] = set()
    reasons = []
    # Brands first: a brand name may contain a colour or an article word ("Red Tape").
    own_brand = attributes.get("brand")
    if own_brand:
        own_tokens = normalise(own_brand).split()
        n = len(own_tokens)
        for i in range(len(tokens) - n + 1):
            if tokens[i : i + n] == own_tokens:
                masked.update(range(i, i + n))
    for attribute in ("brand", "colour", "gender", "article_type", "material"):
        own = str(attributes.get(attribute, ""))
        own_values = [own] if attribute == "brand" else split_values(own)
        for stated, start, end in vocabulary.find(attribute, tokens, masked):
            masked.update(range(start, end))
            if not _compatible(attribute, stated, own_values):
                label = ATTRIBUTE_LABELS[attribute]
                own = attributes.get(attribute)
                detail = f"the product's {label} is {own}" if own else f"the product has no {label} in its facts"
                reasons.append(reason(attribute, f"States {label} '{stated}', but {detail}."))
    own_sizes = {normalise(s) for s in split_values(str(attributes.get("size", "")))}
    for match in SIZE_RE.finditer(text):
        stated = normalise(match.group(1))
        if not any(stated == s or stated.startswith(s + " ") or s.endswith(" " + stated) for s in own_sizes):
            detail = (
                f"the product's size is {attributes['size']}" if own_sizes else "the product has no size in its facts"
            )
            reasons.append(reason("size", f"States size '{match.group(1)}', but {detail}."))
    return reasons


def check_text(
    text: str,
    *,
    facts: dict[str, Any],
    kind: str,
    vocabulary: Vocabulary,
    limits: Limits,
) -> tuple[str, list[dict[str, str]]]:
    """Sanitise ``text`` and return it with the reasons it fails (empty when it passes)."""
    clean = sanitize_for_kind(text or "", kind)
    plain = plain_text(clean)
    reasons = [
        reason("length", message)
        for message in length_problems(plain, min_length=limits.min_length, max_length=limits.max_length)
    ]
    reasons += [reason("repetition", message) for message in repetition_problems(plain)]
    reasons += [reason("banned_word", message) for message in banned_word_problems(plain, limits.banned_words)]
    reasons += check_attributes(plain, facts, vocabulary)
    reasons += check_numbers(plain, prompt_facts(facts, kind))
    problem = language_problem(plain, limits.language)
    if problem:
        reasons.append(reason("language", problem))
    return clean, reasons
