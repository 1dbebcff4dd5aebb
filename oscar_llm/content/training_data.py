"""Training pairs for the shop model, built with the very prompt code generation uses.

Every target passes the same checks as generated text before it becomes a
training pair, so the model is never taught to contradict a product's facts
or to state numbers it was not given. Some prompts are also rendered for
non-default customer segments, so segment tags do not throw the model off.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalogue import Vocabulary, facts_from_fashion_row
from .checks import Limits, check_text
from .prompts import PromptContext, training_pair

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
        }


def _target(facts: Mapping[str, Any], kind: str) -> str:
    return str(facts.get(kind) or "").strip()


def _segments() -> dict[str, dict[str, Any]]:
    from ..settings import llm_settings

    return llm_settings.SEGMENTS


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
    targets failing the checks are counted in ``dropped``. For a share of the
    kept targets one more pair is rendered with a randomly chosen non-default
    segment (its tag and focus order).
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
            ctx = PromptContext(kind=kind, language=language, max_length=DEFAULT_MAX_LENGTH.get(kind, 200))
            clean, reasons = check_text(target, facts=facts, kind=kind, vocabulary=vocabulary, limits=limits_for(ctx))
            if reasons:
                result.dropped += 1
                result.drop_reasons.update({r["check"] for r in reasons})
                continue
            result.kept += 1
            result.by_kind[kind] += 1
            result.pairs.append(training_pair(facts, ctx, clean))
            if other_segments and rng.random() < segment_share:
                name, focus = rng.choice(other_segments)
                seg_ctx = PromptContext(
                    kind=kind, segment=name, focus=focus, language=language, max_length=ctx.max_length
                )
                result.pairs.append(training_pair(facts, seg_ctx, clean))
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


def pairs_from_database(kinds: Sequence[str] = KINDS, queryset: Any = None, **kwargs: Any) -> TrainingPairs:
    """Pairs from the shop's products: their titles, descriptions and meta descriptions."""
    from oscar.core.loading import get_model

    from ..catalogue import catalogue_vocabulary, product_facts

    if queryset is None:
        Product = get_model("catalogue", "Product")
        queryset = Product.objects.exclude(structure="parent").order_by("pk")
    facts_list = []
    for product in queryset.iterator(chunk_size=500):
        facts = product_facts(product)
        facts["meta_description"] = getattr(product, "meta_description", "") or ""
        facts_list.append(facts)
    kwargs.setdefault("vocabulary", catalogue_vocabulary())
    return pairs_from_facts(facts_list, kinds, **kwargs)
