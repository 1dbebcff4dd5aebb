"""Training pairs for the shop model, built with the very prompt code generation uses.

Every target passes the same checks as generated text before it becomes a
training pair, so the model is never taught to contradict a product's facts
or to state numbers it was not given.

Segments: for each segment with facts to lead with (``focus``), the project's
code rewrites a product's description (and meta description) so it leads with
those facts (:func:`segment_target`: a lead sentence built from the facts, then
the shop's own sentences, those stating the segment's facts first), so the model
learns that the segment tag changes what the text leads with. Titles name the
product and stay the same for every segment; a share of them is rendered with a
segment's tag so the tag does not throw the model off.

From the shop's database only products with written copy (a description) are
trained on: a supplier-feed product's coded title is not a title to learn, and
those are the products the model writes copy for.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalogue import Vocabulary, facts_from_fashion_row, has_written_copy, prompt_facts
from ..guardrails.html import plain_text
from .checks import Limits, check_text
from .prompts import PromptContext, fact_stated, lead_facts, sentences, training_pair

KINDS = ("title", "description", "meta_description")

# Longest target kept per kind: the model learns the lengths the shop accepts.
DEFAULT_MAX_LENGTH = {"title": 90, "description": 1200, "meta_description": 160}


def default_limits(ctx: PromptContext) -> Limits:
    return Limits(max_length=DEFAULT_MAX_LENGTH.get(ctx.kind, ctx.max_length), language=ctx.language)


@dataclass
class TrainingPairs:
    """The pairs plus what was left out and why (iterates over the pairs)."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    kept: int = 0
    dropped: int = 0
    augmented: int = 0
    drop_reasons: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    # Segment-conditioned targets kept per segment, and those the checks dropped.
    by_segment: Counter[str] = field(default_factory=Counter)
    segment_dropped: int = 0
    # Products left out before any target was looked at (no written copy, or excluded).
    skipped_products: Counter[str] = field(default_factory=Counter)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def summary(self) -> dict[str, Any]:
        return {
            "pairs": len(self.pairs),
            "kept_targets": self.kept,
            "dropped_targets": self.dropped,
            "augmented_pairs": self.augmented,
            "drop_reasons": dict(self.drop_reasons),
            "by_kind": dict(self.by_kind),
            "segment_targets": dict(self.by_segment),
            "segment_targets_dropped": self.segment_dropped,
            "skipped_products": dict(self.skipped_products),
        }


def _target(facts: Mapping[str, Any], kind: str) -> str:
    return str(facts.get(kind) or "").strip()


def _segments() -> dict[str, dict[str, Any]]:
    from ..settings import llm_settings

    return llm_settings.SEGMENTS


# --- segment-conditioned targets ------------------------------------------------------------------
#
# Written in English from the product's own facts only: every value below comes from the facts,
# and the checks run on the result like on any other target. Titles are not rewritten: a title
# names the product, whoever reads it.

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
# Article types that are plural words ("these jeans are", never "this jean is"); a mass noun such as
# "knitwear" needs nothing: "this knitwear is" reads well.
PLURAL_ONLY = {
    "jeans",
    "trousers",
    "shorts",
    "leggings",
    "tights",
    "chinos",
    "joggers",
    "pyjamas",
    "sneakers",
    "trainers",
    "boots",
    "heels",
    "sandals",
    "flats",
    "loafers",
    "shoes",
    "slippers",
    "sunglasses",
    "glasses",
    "socks",
    "gloves",
    "earrings",
}
# Usage values said as a noun of their own rather than "<usage> wear".
USAGE_PHRASES = {"sports": "sports"}


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ves") and len(word) > 4:
        return word[:-3] + "f"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def noun(facts: Mapping[str, Any]) -> tuple[str, bool] | None:
    """(what the product is, in running text; whether it is plural), from its article type or category."""
    attributes = facts.get("attributes") or {}
    name = str(attributes.get("article_type") or "").strip()
    if not name and facts.get("category"):
        name = str(facts["category"]).split(">")[-1].strip()
    if not name:
        return None
    words = name.lower().split()
    if words[-1] in PLURAL_ONLY:
        return " ".join(words), True
    return " ".join([*words[:-1], _singular(words[-1])]), False


def money(facts: Mapping[str, Any]) -> str:
    price = str(facts.get("price") or "")
    currency = str(facts.get("currency") or "")
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{symbol}{price}" if symbol else f"{price} {currency}".strip()


def _value(facts: Mapping[str, Any], key: str) -> str:
    return str((facts.get("attributes") or {}).get(key) or "").strip()


def _usage(value: str) -> str:
    word = value.lower()
    return USAGE_PHRASES.get(word, f"{word} wear")


def _predicate(facts: Mapping[str, Any], key: str, plural: bool) -> str | None:
    """What the product "is/has/comes in" for one fact, e.g. "is made for casual wear"."""
    is_, has, comes, costs, suits = (
        ("are", "have", "come", "cost", "suit") if plural else ("is", "has", "comes", "costs", "suits")
    )
    if key == "price":
        return f"{costs} {money(facts)}" if facts.get("price") else None
    value = _value(facts, key)
    if not value:
        return None
    if key == "material":
        return f"{is_} {value.lower()}"
    if key == "usage":
        return f"{is_} made for {_usage(value)}"
    if key == "size":
        return f"{comes} in one size" if value.lower() == "one size" else f"{comes} in size {value}"
    if key == "finish":
        return f"{has} a {value.lower()} finish"
    if key == "brand":
        return f"{is_} by {value}"
    if key == "season":
        return f"{suits} {value.lower()}"
    if key == "gender":
        who = {"women": "women", "men": "men", "boys": "boys", "girls": "girls"}.get(value.lower(), "everyone")
        return f"{is_} made for {who}"
    return f"{has} a {value.lower()} {key.replace('_', ' ')}"


def lead_sentence(facts: Mapping[str, Any], focus: Sequence[str]) -> str | None:
    """One sentence stating the segment's facts in its order, e.g. for ``price, material, usage, size``:
    "At £45.00, this navy blue dress is cotton, is made for casual wear and comes in size M."

    ``None`` when the product has none of the facts or nothing to call it.
    """
    keys = [key for key, _value in lead_facts(dict(facts), focus)]
    named = noun(facts)
    if not keys or named is None:
        return None
    what, plural = named
    opener = ""
    if keys[0] == "price" and len(keys) > 1:
        opener = f"At {money(facts)}, "
    elif keys[0] == "brand" and len(keys) > 1:
        opener = f"From {_value(facts, 'brand')}, "
    if opener:
        keys = keys[1:]
    colour = _value(facts, "colour").lower()
    subject = " ".join(w for w in ("these" if plural else "this", colour, what) if w)
    predicates = [p for p in (_predicate(facts, key, plural) for key in keys if key != "colour") if p]
    if not predicates:
        # Colour was the only fact left: it is in the subject, so say it plainly.
        predicates = [f"{'are' if plural else 'is'} {colour}"] if colour else []
    if not predicates:
        return None
    body = predicates[0] if len(predicates) == 1 else ", ".join(predicates[:-1]) + " and " + predicates[-1]
    sentence = f"{opener}{subject} {body}."
    return sentence[0].upper() + sentence[1:]


def _stated_keys(text: str, facts: Mapping[str, Any]) -> set[str]:
    """The facts (other than what the product is) that ``text`` states."""
    flat = prompt_facts(dict(facts), "description")
    return {
        key
        for key, value in flat.items()
        if key not in ("article_type", "category", "product_class", "title") and fact_stated(text, key, value)
    }


def segment_target(facts: Mapping[str, Any], kind: str, text: str, focus: Sequence[str]) -> str | None:
    """The shop's own ``text`` of ``kind`` rewritten to lead with the facts of ``focus``, or ``None``.

    Descriptions get a lead sentence stating the segment's facts, then the shop's sentences: those
    stating one of the segment's facts first, and without those that say only what the lead said.
    A meta description that does not start with the segment's first fact gets it in front ("At
    £45.00: ..."). Titles are not rewritten. Only true facts are added, so the checks still pass
    whenever the shop's text did.
    """
    leads = lead_facts(dict(facts), focus)
    if not leads or kind == "title":
        return None
    if kind == "description":
        lead = lead_sentence(facts, focus)
        if lead is None:
            return None
        said = _stated_keys(lead, facts)
        focus_keys = {key for key, _value in leads}
        kept = []
        for sentence in sentences(text):
            stated = _stated_keys(sentence, facts)
            if stated and stated <= said:
                continue
            kept.append((0 if stated & focus_keys else 1, sentence))
        body = [sentence for _rank, sentence in sorted(kept, key=lambda item: item[0])]
        return " ".join([lead, *body])
    if kind == "meta_description":
        key, value = leads[0]
        plain = plain_text(text)
        first_words = " ".join(plain.split()[:4])
        if fact_stated(first_words, key, value):
            return None
        if key == "price":
            return f"At {money(facts)}: {plain}"
        if key == "brand":
            return f"From {_value(facts, 'brand')}: {plain}"
        return None
    return None


def _fit(text: str, max_length: int) -> str:
    """Drop whole trailing sentences until the text fits (the lead sentence is always kept)."""
    parts = sentences(text)
    while len(parts) > 1 and len(" ".join(parts)) > max_length:
        parts.pop()
    return " ".join(parts)


def pairs_from_facts(
    facts_list: Iterable[dict[str, Any]],
    kinds: Sequence[str] = KINDS,
    vocabulary: Vocabulary | None = None,
    *,
    limits_for: Callable[[PromptContext], Limits] = default_limits,
    segments: Mapping[str, Mapping[str, Any]] | None = None,
    segment_share: float = 0.2,
    language: str = "en",
    seed: int = 0,
) -> TrainingPairs:
    """(prompt, completion) pairs for each facts dict and kind whose target passes ``check_text``.

    The target of kind ``k`` is ``facts[k]`` (``title``, ``description``,
    ``meta_description``); missing or empty targets are skipped silently,
    targets failing the checks are counted in ``dropped``.

    For each segment with facts to lead with, a kept description or meta
    description also gets that segment's own target (:func:`segment_target`,
    English only), checked like any other. Where a segment has no target of its
    own (titles, a segment without ``focus``), a share of the kept targets is
    rendered once more with a randomly chosen non-default segment's tag.
    """
    facts_list = list(facts_list)
    if vocabulary is None:
        vocabulary = Vocabulary.from_facts(facts_list)
    if segments is None:
        segments = _segments()
    other_segments = [(name, tuple(cfg.get("focus") or ())) for name, cfg in segments.items() if name != "default"]
    rng = random.Random(seed)
    result = TrainingPairs()
    for facts in facts_list:
        for kind in kinds:
            target = _target(facts, kind)
            if not target:
                continue
            max_length = DEFAULT_MAX_LENGTH.get(kind, 200)
            ctx = PromptContext(kind=kind, language=language, max_length=max_length)
            clean, reasons = check_text(target, facts=facts, kind=kind, vocabulary=vocabulary, limits=limits_for(ctx))
            if reasons:
                result.dropped += 1
                result.drop_reasons.update({r["check"] for r in reasons})
                continue
            result.kept += 1
            result.by_kind[kind] += 1
            result.pairs.append(training_pair(facts, ctx, clean))
            untargeted = []
            for name, focus in other_segments:
                seg_ctx = PromptContext(kind=kind, segment=name, focus=focus, language=language, max_length=max_length)
                rewritten = segment_target(facts, kind, clean, focus) if language == "en" else None
                if rewritten is None:
                    untargeted.append(seg_ctx)
                    continue
                rewritten, seg_reasons = check_text(
                    _fit(rewritten, max_length) if kind == "description" else rewritten,
                    facts=facts,
                    kind=kind,
                    vocabulary=vocabulary,
                    limits=limits_for(seg_ctx),
                )
                if seg_reasons:
                    result.segment_dropped += 1
                    result.drop_reasons.update({"segment:" + r["check"] for r in seg_reasons})
                    continue
                result.pairs.append(training_pair(facts, seg_ctx, rewritten))
                result.by_segment[name] += 1
            if untargeted and rng.random() < segment_share:
                result.pairs.append(training_pair(facts, rng.choice(untargeted), clean))
                result.augmented += 1
    return result


def read_fashion_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def pairs_from_catalogue_csv(
    path: str | Path,
    skip_first: int = 0,
    *,
    kinds: Sequence[str] = ("title",),
    vocabulary: Vocabulary | None = None,
    **kwargs: Any,
) -> TrainingPairs:
    """Title pairs from a fashion-format CSV, leaving its first ``skip_first`` rows out (held out).

    The vocabulary for the checks comes from the rows trained on unless given,
    so nothing from the held-out rows shapes the training set.
    """
    rows = read_fashion_csv(path)[max(skip_first, 0) :]
    facts_list = [facts_from_fashion_row(row) for row in rows]
    return pairs_from_facts(facts_list, kinds, vocabulary, **kwargs)


def pairs_from_database(
    kinds: Sequence[str] = KINDS,
    queryset: Any = None,
    *,
    exclude_ids: Iterable[int] = (),
    **kwargs: Any,
) -> TrainingPairs:
    """Pairs from the shop's products that have written copy: their titles, descriptions and meta descriptions.

    Products without a description (supplier-feed items) are never targets, nor are the products
    in ``exclude_ids`` (e.g. those copy is about to be generated for, so the model is never asked to
    rewrite a text it learned by heart). Both are counted in ``skipped_products``.
    """
    from oscar.core.loading import get_model

    from ..catalogue import catalogue_vocabulary, product_facts

    if queryset is None:
        Product = get_model("catalogue", "Product")
        queryset = Product.objects.exclude(structure="parent").order_by("pk")
    excluded = set(exclude_ids)
    skipped: Counter[str] = Counter()
    facts_list = []
    for product in queryset.iterator(chunk_size=500):
        if product.pk in excluded:
            skipped["excluded"] += 1
            continue
        if not has_written_copy({"description": product.description}):
            skipped["no_written_copy"] += 1
            continue
        facts = product_facts(product)
        facts["meta_description"] = getattr(product, "meta_description", "") or ""
        facts_list.append(facts)
    kwargs.setdefault("vocabulary", catalogue_vocabulary())
    result = pairs_from_facts(facts_list, kinds, **kwargs)
    result.skipped_products.update(skipped)
    return result
