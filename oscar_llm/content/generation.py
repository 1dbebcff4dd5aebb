"""Generate -> check -> retry: the one path every product text takes.

The shop's content jobs, the evaluation harness and the benchmark all call
:func:`generate_checked`, so what is measured is what the shop runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..catalogue import Vocabulary
from ..llm.base import GenerationOptions, TextGenerator
from ..settings import DEFAULTS
from .checks import Limits, check_text
from .prompts import PromptContext, build_request


@dataclass
class Outcome:
    """The text kept for one item: the first candidate that passed, else the first draft and why it failed."""

    text: str
    accepted: bool
    reasons: list[dict[str, str]] = field(default_factory=list)
    candidates_tried: int = 0
    # "model", or "pattern" when no candidate of the model passed and the title was filled from the facts.
    source: str = "model"


# Retailer titles follow one pattern: brand, who it is for, colour, what it is ("Peter England Men
# Navy Blue Shirt"); a description can always say, in one sentence, the facts its segment leads with.
# Filled from the facts alone, neither can state anything the facts do not.
PATTERN_SOURCE = "pattern"
# What a pattern sentence states for a segment that leads with nothing in particular.
PATTERN_FOCUS = ("brand", "material", "usage", "season", "size")


def fact_title(facts: Mapping[str, Any]) -> str:
    """The title the facts alone give: brand, gender, colour and the article type in the singular."""
    from ..catalogue import singular

    attributes = facts.get("attributes") or {}
    article = str(attributes.get("article_type") or "").strip()
    if not article:
        return ""
    words = article.split()
    words[-1] = singular(words[-1].lower()).capitalize() if words[-1][:1].isupper() else singular(words[-1])
    parts = [attributes.get("brand"), attributes.get("gender"), attributes.get("colour"), " ".join(words)]
    return " ".join(str(p).strip() for p in parts if p and str(p).strip())


def _generation_settings() -> dict[str, Any]:
    try:
        from ..settings import llm_settings

        return dict(llm_settings.GENERATION)
    except Exception:  # Django settings not configured (scripts): the plugin's defaults
        return dict(DEFAULTS["GENERATION"])


def default_options() -> GenerationOptions:
    """Greedy generation options from ``OSCAR_LLM["GENERATION"]``."""
    cfg = _generation_settings()
    return GenerationOptions(
        do_sample=bool(cfg["do_sample"]),
        temperature=float(cfg["temperature"]),
        top_p=float(cfg["top_p"]),
        seed=cfg["seed"],
        batch_size=int(cfg["batch_size"]),
    )


def fact_text(facts: Mapping[str, Any], ctx: PromptContext) -> str:
    """The text of ``ctx.kind`` the facts alone give (empty when they give none)."""
    if ctx.kind == "title":
        return fact_title(facts)
    from .training_data import lead_sentence

    return lead_sentence(facts, ctx.focus or PATTERN_FOCUS) or ""


def generate_checked(
    generator: TextGenerator,
    items: Sequence[tuple[dict[str, Any], PromptContext]],
    vocabulary: Vocabulary,
    limits_for: Callable[[PromptContext], Limits] | Limits,
    options: GenerationOptions | None = None,
    *,
    retry_candidates: int | None = None,
    max_new_tokens: Mapping[str, int] | None = None,
    pattern_fallback: bool | None = None,
) -> list[Outcome]:
    """Generate a text per ``(facts, context)`` item, check it, and retry the failures by sampling.

    The first pass uses ``options`` (greedy by default) and keeps the first of
    its candidates that passes ``check_text``. Items with no passing candidate
    get one more round of ``retry_candidates`` sampled candidates (0 turns
    retries off). An item that still fails keeps its first draft and reasons,
    to be stored as a rejected draft, unless the text the facts alone give (:func:`fact_text`)
    passes the same checks (``GENERATION["pattern_fallback"]``): then that text is kept, marked
    ``source="pattern"``.
    """
    if not items:
        return []
    cfg = _generation_settings()
    options = options or default_options()
    # A user's GENERATION["max_new_tokens"] may name only some kinds; the others keep their default.
    budgets = {**DEFAULTS["GENERATION"]["max_new_tokens"], **cfg["max_new_tokens"], **(max_new_tokens or {})}
    if retry_candidates is None:
        retry_candidates = int(cfg["retry_candidates"])
    if pattern_fallback is None:
        pattern_fallback = bool(cfg.get("pattern_fallback", True))

    limits_cache: dict[PromptContext, Limits] = {}

    def limits(ctx: PromptContext) -> Limits:
        if isinstance(limits_for, Limits):
            return limits_for
        if ctx not in limits_cache:
            limits_cache[ctx] = limits_for(ctx)
        return limits_cache[ctx]

    requests = [build_request(facts, ctx, budgets.get(ctx.kind, 64)) for facts, ctx in items]
    outcomes: list[Outcome | None] = [None] * len(items)
    first_drafts: list[tuple[str, list[dict[str, str]]] | None] = [None] * len(items)
    tried = [0] * len(items)

    def check_candidates(index: int, candidates: list[str]) -> bool:
        facts, ctx = items[index]
        seen: set[str] = set()
        for candidate in candidates:
            tried[index] += 1
            if candidate in seen:
                continue
            seen.add(candidate)
            clean, reasons = check_text(
                candidate, facts=facts, kind=ctx.kind, vocabulary=vocabulary, limits=limits(ctx)
            )
            if first_drafts[index] is None:
                first_drafts[index] = (clean, reasons)
            if not reasons:
                outcomes[index] = Outcome(clean, True, [], tried[index])
                return True
        return False

    for i, candidates in enumerate(generator.generate(requests, options)):
        check_candidates(i, candidates)

    failed = [i for i, outcome in enumerate(outcomes) if outcome is None]
    if failed and retry_candidates > 0:
        retry_options = replace(options, do_sample=True, num_candidates=retry_candidates)
        retried = generator.generate([requests[i] for i in failed], retry_options)
        for i, candidates in zip(failed, retried, strict=True):
            check_candidates(i, candidates)

    for i, outcome in enumerate(outcomes):
        facts, ctx = items[i]
        if outcome is None and pattern_fallback:
            pattern = fact_text(facts, ctx)
            if pattern:
                clean, reasons = check_text(
                    pattern, facts=facts, kind=ctx.kind, vocabulary=vocabulary, limits=limits(ctx)
                )
                if not reasons:
                    outcomes[i] = Outcome(clean, True, [], tried[i], source=PATTERN_SOURCE)

    results = []
    for i, outcome in enumerate(outcomes):
        if outcome is None:
            text, reasons = first_drafts[i] or ("", [{"check": "empty", "message": "The model returned no text."}])
            outcome = Outcome(text, False, reasons, tried[i])
        results.append(outcome)
    return results
