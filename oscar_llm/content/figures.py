"""Do a product's segment variants differ, and does each state what its segment leads with?

Two figures over the copy the model wrote, per kind (descriptions by default):

- **distinct**: of the products that have a variant for two or more segments, the share whose
  variants are all different texts (after normalising case, spaces and punctuation);
- **stating**: of the variants of segments with facts to lead with, the share that state at least
  one of those facts (``prompts.fact_stated``); **leading** is the stricter share whose first
  sentence states the first of them the product has.

Both are split by where the product's copy came from: products with written copy (the model was
trained on their text) and supplier-feed products (no description: the model had never seen
them). :func:`variant_figures` works on plain data; :func:`segment_figures` reads the drafts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalogue import has_written_copy
from ..guardrails.html import plain_text
from ..guardrails.text import normalise
from .prompts import SegmentStyle, fact_stated, lead_facts, leads_with, segment_styles
from .segments import DEFAULT_SEGMENT

WRITTEN = "written"
SUPPLIER_FEED = "supplier_feed"


@dataclass(frozen=True)
class Variant:
    """The text one segment sees for one product (its newest draft that passed the checks)."""

    product_id: int
    segment: str
    text: str
    facts: dict[str, Any] = field(default_factory=dict)
    language: str = "en"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(variants: list[Variant], styles: Mapping[str, SegmentStyle]) -> dict[str, Any]:
    by_product: dict[tuple[int, str], list[Variant]] = {}
    for variant in variants:
        by_product.setdefault((variant.product_id, variant.language), []).append(variant)
    with_variants = [group for group in by_product.values() if len({v.segment for v in group}) >= 2]
    distinct = sum(1 for group in with_variants if len({normalise(plain_text(v.text)) for v in group}) == len(group))
    complete = sum(1 for group in by_product.values() if {v.segment for v in group} >= set(styles))
    by_segment: dict[str, dict[str, Any]] = {}
    for variant in variants:
        style = styles.get(variant.segment)
        if style is None or not lead_facts(variant.facts, style.focus):
            continue
        row = by_segment.setdefault(variant.segment, {"variants": 0, "stating": 0, "leading": 0})
        row["variants"] += 1
        row["stating"] += any(fact_stated(variant.text, k, v) for k, v in lead_facts(variant.facts, style.focus))
        row["leading"] += leads_with(variant.text, variant.facts, style.focus)
    for row in by_segment.values():
        row["stating_share"] = _share(row["stating"], row["variants"])
        row["leading_share"] = _share(row["leading"], row["variants"])
    total = sum(row["variants"] for row in by_segment.values())
    stating = sum(row["stating"] for row in by_segment.values())
    leading = sum(row["leading"] for row in by_segment.values())
    return {
        "products": len(by_product),
        "products_with_every_segment": complete,
        "products_with_variants": len(with_variants),
        "products_distinct": distinct,
        "distinct_share": _share(distinct, len(with_variants)),
        "segment_variants": total,
        "stating_lead_fact": stating,
        "stating_share": _share(stating, total),
        "leading_with_first_fact": leading,
        "leading_share": _share(leading, total),
        "by_segment": by_segment,
    }


def variant_figures(variants: Iterable[Variant], styles: Mapping[str, SegmentStyle] | None = None) -> dict[str, Any]:
    """The figures for all ``variants``, and separately for written and supplier-feed products."""
    styles = segment_styles() if styles is None else styles
    variants = list(variants)
    groups: dict[str, list[Variant]] = {WRITTEN: [], SUPPLIER_FEED: []}
    for variant in variants:
        groups[WRITTEN if has_written_copy(variant.facts) else SUPPLIER_FEED].append(variant)
    figures = _figures(variants, styles)
    figures["by_source"] = {name: _figures(group, styles) for name, group in groups.items()}
    return figures


def current_variants(kind: str = "description", language: str | None = None) -> list[Variant]:
    """Each (product, segment, language)'s newest draft of ``kind`` that is not rejected or superseded."""
    from ..models import ContentDraft

    drafts = ContentDraft.objects.filter(kind=kind).exclude(
        status__in=[ContentDraft.Status.REJECTED, ContentDraft.Status.SUPERSEDED]
    )
    if language:
        drafts = drafts.filter(language=language)
    seen: set[tuple[int, str, str]] = set()
    variants = []
    rows = drafts.order_by("-created_at", "-pk").values_list("product_id", "segment", "language", "text", "facts")
    for product_id, segment, lang, text, facts in rows.iterator(chunk_size=1000):
        if (product_id, segment, lang) in seen:
            continue
        seen.add((product_id, segment, lang))
        variants.append(Variant(product_id, segment, text, facts or {}, lang))
    # Where the shop wrote a product's copy, that copy is its default variant: no draft is written for it.
    if kind == "description":
        for product_id, lang in {(v.product_id, v.language) for v in variants} - {
            (v.product_id, v.language) for v in variants if v.segment == DEFAULT_SEGMENT
        }:
            facts = next(v.facts for v in variants if v.product_id == product_id and v.language == lang)
            if has_written_copy(facts):
                variants.append(Variant(product_id, DEFAULT_SEGMENT, str(facts["description"]), facts, lang))
    return variants


def segment_figures(kind: str = "description", language: str | None = None) -> dict[str, Any]:
    """The figures of the shop's current drafts of ``kind`` (see the module docstring)."""
    figures = variant_figures(current_variants(kind, language))
    return {"kind": kind, **figures}
