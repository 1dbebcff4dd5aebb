"""Checks every product text passes before anyone can see it (docs/architecture.md, "Checks").

``check_text`` returns the sanitised text and a list of reasons; an empty list
means the text passed. Reasons are kept on rejected drafts so staff can see
why a text never reached the shop.

The checks that judge any text live in :mod:`oscar_llm.guardrails`; the ones here
compare a text with the product's own facts and the rest of the catalogue:

- attribute values (colour, gender, material, article type, brand, size) of other products;
- what the product is: a title names its article type or a word for it, and no other type;
- names: a word written like a name ("Zorbo", "S3Y") must come from the product's facts, the
  catalogue's texts or everyday English, so a made-up brand is caught even where the product
  has no brand to contradict.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import (
    ARTICLE_SYNONYM_PHRASES,
    Vocabulary,
    article_names,
    article_vocabulary_words,
    is_open_article_type,
    prompt_facts,
    singular,
    split_values,
    surface_forms,
)
from ..guardrails.html import plain_text, sanitize_for_kind
from ..guardrails.language import language_problem
from ..guardrails.text import (
    COMMON_WORDS,
    banned_word_problems,
    is_known_word,
    length_problems,
    name_like_words,
    normalise,
    repetition_problems,
    unknown_numbers,
    words_of,
)

# Block tags end a sentence as far as capital letters go ("<li>Machine wash</li>").
_BLOCK_TAG_RE = re.compile(r"</?(?:p|li|ul|ol|br)\b[^>]*>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")
_ARTICLE_WORDS = frozenset(article_vocabulary_words())
_SYNONYM_MAX_WORDS = max((len(p.split()) for p in ARTICLE_SYNONYM_PHRASES), default=1)

SIZE_RE = re.compile(r"\bsize[s]?\s*:?\s*([a-z0-9]+(?:\s*[a-z0-9]+)?)", re.IGNORECASE)

ATTRIBUTE_LABELS = {
    "colour": "colour",
    "gender": "gender",
    "material": "material",
    "article_type": "article type",
    "brand": "brand",
    "size": "size",
    "usage": "occasion",
    "season": "season",
}
# Attributes where a word of the product's own value is vague, not false: "Blue" for "Navy Blue",
# "casual" for "Smart Casual".
_PARTIAL_OK = ("colour", "usage")
# "comes in size." - a size named without its value ("true to size", "one size" are no such thing).
SIZE_WITHOUT_VALUE_RE = re.compile(r"(?<!\bto )(?<!\bone )\bsizes?\s*(?=[.,;!?)]|$)", re.IGNORECASE)


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
        if attribute in _PARTIAL_OK and set(normalise(stated).split()) <= own_words:
            return True
    return False


def _mask(tokens: list[str], phrase: str, masked: set[int]) -> None:
    words = phrase.split()
    n = len(words)
    for i in range(len(tokens) - n + 1):
        if tokens[i : i + n] == words:
            masked.update(range(i, i + n))


def _own_values(attribute: str, attributes: dict[str, Any]) -> list[str]:
    own = str(attributes.get(attribute, ""))
    return ([own] if own else []) if attribute == "brand" else split_values(own)


def _stem_words(phrase: str) -> set[str]:
    return {singular(w) for w in phrase.split()}


def _article_compatible(phrase: str, canonical: str | None, own: str) -> bool:
    """Whether mentioning ``phrase`` (a form of the catalogue's type ``canonical``, or a synonym) fits ``own``.

    The catalogue's own types decide between themselves: a synonym never makes one type another
    ("Sandals" for "Heels" stays a conflict). A phrase whose words are all in the product's type
    is vague, not false: "Jacket" for a "Rain Jacket", "Sandals" for "Sports Sandals".
    """
    if _stem_words(phrase) <= _stem_words(normalise(own)):
        return True
    if canonical is not None:
        return _compatible("article_type", canonical, split_values(own))
    # A longer word for a kind of the product's own thing: "Tote Bag" for a handbag, "Running Shoes" for shoes.
    names = article_names(own)
    return phrase in names or phrase.split()[-1] in names


def _hides_a_type(phrase: str, table: dict[str, str]) -> bool:
    """Whether a synonym of several words holds one of the catalogue's types ("Salwar Suit" holds "Salwar")."""
    words = phrase.split()
    return any(" ".join(words[i : i + n]) in table for n in range(1, len(words)) for i in range(len(words) - n + 1))


def _article_mentions(
    tokens: list[str], vocabulary: Vocabulary, masked: set[int]
) -> list[tuple[str, str | None, int, int]]:
    """(phrase, the catalogue's type or None for a synonym, start, end) of each article mention, longest first."""
    table = vocabulary.forms.get("article_type") or {}
    longest = max(vocabulary.max_words, _SYNONYM_MAX_WORDS)
    found: list[tuple[str, str | None, int, int]] = []
    i = 0
    while i < len(tokens):
        for n in range(min(longest, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + n])
            if phrase not in table and phrase not in ARTICLE_SYNONYM_PHRASES:
                continue
            if not masked.isdisjoint(range(i, i + n)):
                continue
            if phrase in table or not _hides_a_type(phrase, table):
                found.append((phrase, table.get(phrase), i, i + n))
                i += n
                break
        else:
            i += 1
    return found


def _article_conflicts(tokens: list[str], own: str, vocabulary: Vocabulary, masked: set[int]) -> list[dict[str, str]]:
    """Mentions of what the product is not: another article type of the catalogue, or a word for one."""
    reasons = []
    names = article_names(own) if own else frozenset()
    longest = max((len(name.split()) for name in names), default=0)
    # Where a name of the product's own type starts: a word for another type right before one
    # describes it ("Sneaker Socks", "Shoe Bag") rather than saying it is something else. The
    # catalogue's own types are never read so ("Jeans Shoes" states jeans).
    own_starts = {i for i in range(len(tokens)) for n in range(1, longest + 1) if " ".join(tokens[i : i + n]) in names}
    for phrase, canonical, start, end in _article_mentions(tokens, vocabulary, masked):
        masked.update(range(start, end))
        if canonical is None and not own:
            continue  # a synonym cannot contradict a product whose type is unknown
        if own and ((canonical is None and end in own_starts) or _article_compatible(phrase, canonical, own)):
            continue
        detail = f"the product's article type is {own}" if own else "the product has no article type in its facts"
        if canonical is not None:
            reasons.append(reason("article_type", f"States article type '{canonical}', but {detail}."))
        else:
            types = ", ".join(sorted(ARTICLE_SYNONYM_PHRASES[phrase]))
            reasons.append(reason("article_type", f"Calls the product '{phrase}' (a word for {types}), but {detail}."))
    return reasons


def check_article_named(text: str, facts: dict[str, Any], vocabulary: Vocabulary) -> list[dict[str, str]]:
    """A title must say what the product is: its article type, a part of it or a word for it."""
    attributes = facts.get("attributes") or {}
    own = str(attributes.get("article_type") or "").strip()
    tokens = normalise(text).split()
    # Nothing to name it by (or an empty text, which the length check reports); and a "Free Gift"
    # is called by what it is.
    if not own or not tokens or is_open_article_type(own):
        return []
    masked: set[int] = set()
    for brand in _own_values("brand", attributes):
        _mask(tokens, normalise(brand), masked)  # "Bag It" the brand says nothing about what it sells
    names = article_names(own)
    table = vocabulary.forms.get("article_type") or {}
    longest = max([len(name.split()) for name in names], default=1)
    for i in range(len(tokens)):
        for n in range(1, min(longest, len(tokens) - i) + 1):
            phrase = " ".join(tokens[i : i + n])
            if phrase not in names or not masked.isdisjoint(range(i, i + n)):
                continue
            if phrase not in table and _hides_a_type(phrase, table):
                continue
            if _article_compatible(phrase, table.get(phrase), own):
                return []
    return [reason("no_article_type", f"Does not say what the product is: names neither {own} nor a word for it.")]


def check_attributes(text: str, facts: dict[str, Any], vocabulary: Vocabulary) -> list[dict[str, str]]:
    """Reject values of checked attributes that belong to other products, not this one."""
    tokens = normalise(text).split()
    attributes = {k: v for k, v in (facts.get("attributes") or {}).items() if v}
    masked: set[int] = set()
    reasons = []
    # Brands first: a brand name may contain a colour or an article word ("Red Tape").
    for own_brand in _own_values("brand", attributes):
        _mask(tokens, normalise(own_brand), masked)
    # Where the product's own values stand: a word that is one of its values for one attribute is
    # no claim about another (a moisturiser's "Cream" texture is not the colour cream). Only other
    # attributes' values are set aside, so "Mushroom Brown" still contradicts a "Brown" product.
    own_positions: dict[str, set[int]] = {}
    for attribute in ("colour", "gender", "article_type", "material", "usage", "season"):
        positions = own_positions.setdefault(attribute, set())
        for own in _own_values(attribute, attributes):
            for form in surface_forms(attribute, own):
                _mask(tokens, form, positions)
    for attribute in ("brand", "colour", "gender", "article_type", "material", "usage", "season"):
        others: set[int] = set()
        if attribute != "brand":  # a brand is matched whole ("Red Tape" is a brand, whatever "Red" is)
            others = set().union(*(p for a, p in own_positions.items() if a != attribute))
        if attribute == "article_type":
            skip = masked | others
            reasons += _article_conflicts(tokens, str(attributes.get("article_type", "")), vocabulary, skip)
            masked |= skip - others  # the mentions it found
            continue
        own_values = _own_values(attribute, attributes)
        for stated, start, end in vocabulary.find(attribute, tokens, masked | others):
            masked.update(range(start, end))
            if not _compatible(attribute, stated, own_values):
                label = ATTRIBUTE_LABELS[attribute]
                own_value = attributes.get(attribute)
                detail = (
                    f"the product's {label} is {own_value}" if own_value else f"the product has no {label} in its facts"
                )
                reasons.append(reason(attribute, f"States {label} '{stated}', but {detail}."))
    reasons += _brand_fragments(tokens, attributes, vocabulary, masked | set().union(*own_positions.values()))
    own_sizes = {normalise(s) for s in split_values(str(attributes.get("size", "")))}
    for match in SIZE_RE.finditer(text):
        stated = normalise(match.group(1))
        if not any(stated == s or stated.startswith(s + " ") or s.endswith(" " + stated) for s in own_sizes):
            detail = (
                f"the product's size is {attributes['size']}" if own_sizes else "the product has no size in its facts"
            )
            reasons.append(reason("size", f"States size '{match.group(1)}', but {detail}."))
    if SIZE_WITHOUT_VALUE_RE.search(text):
        reasons.append(reason("size", "Names a size without saying which."))
    return reasons


def _brand_fragments(
    tokens: list[str], attributes: dict[str, Any], vocabulary: Vocabulary, skip: set[int]
) -> list[dict[str, str]]:
    """Words of another product's brand standing without the rest of it ("A & Vale" from "Moss & Vale").

    A whole brand is found by ``vocabulary.find``; a fragment of one is a made-up brand built from the
    catalogue's words, which the names check lets through because every word of it is known. Everyday
    words and values of other attributes ("Red" of "Red Tape") are no brand claim.
    """
    own = {w for b in _own_values("brand", attributes) for w in normalise(b).split()}
    brand_of, other_values = vocabulary.brand_words()
    reasons = []
    for i, token in enumerate(tokens):
        if i in skip or token in own or token not in brand_of or len(token) < 3:
            continue
        if token in COMMON_WORDS or token in other_values or token in _ARTICLE_WORDS:
            continue
        own_brand = attributes.get("brand")
        detail = f"the product's brand is {own_brand}" if own_brand else "the product has no brand in its facts"
        reasons.append(reason("brand", f"States '{token}', part of the brand '{brand_of[token]}', but {detail}."))
        skip = skip | {i}
    return reasons


def _text_with_breaks(clean: str) -> str:
    """Plain text of sanitised HTML with a line break where a block ends, so each item starts a sentence."""
    return html.unescape(_TAG_RE.sub(" ", _BLOCK_TAG_RE.sub("\n", clean)))


def check_names(text: str, facts: dict[str, Any], kind: str, vocabulary: Vocabulary) -> list[dict[str, str]]:
    """Reject names (brands, places, models) found neither in the product's facts nor in the catalogue.

    A word counts as a name when written like one (see ``name_like_words``); it is known when the
    product's facts, any text of the catalogue, the words for article types or everyday English
    use it. A code of letters and digits ("S3Y") identifies one product, so only the product's own
    facts may supply it.
    """
    flat = prompt_facts(facts, kind)
    fact_words = words_of(" ".join(flat.values()))
    known_sets = (fact_words, vocabulary.words, COMMON_WORDS, _ARTICLE_WORDS)
    reasons = []
    seen: set[str] = set()
    for word in name_like_words(text, every_word=kind == "title"):
        if word.lower() in seen:
            continue
        seen.add(word.lower())
        if any(c.isdigit() for c in word):
            if word.lower() not in fact_words:
                reasons.append(
                    reason("invented_name", f"States the code '{word}', which is not in the product's facts.")
                )
        elif not any(is_known_word(word, known) for known in known_sets):
            reasons.append(
                reason(
                    "invented_name",
                    f"Names '{word}', which is neither in the product's facts nor anywhere in the catalogue.",
                )
            )
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
    if kind == "title":
        reasons += check_article_named(plain, facts, vocabulary)
    reasons += check_names(plain if kind == "title" else _text_with_breaks(clean), facts, kind, vocabulary)
    reasons += check_numbers(plain, prompt_facts(facts, kind))
    problem = language_problem(plain, limits.language)
    if problem:
        reasons.append(reason("language", problem))
    return clean, reasons
