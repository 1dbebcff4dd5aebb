"""Writing the answer to a product question from the chosen evidence, and checking it.

Two writers behind one interface (``write_many([(question, evidence, source), ...]) -> [text]``):

* :class:`QuoteWriter` quotes the evidence with a short lead-in naming its source ("From the product
  details: Material: viscose."). It is the default: on ``hetpqa_answers_dev.tsv`` quoting reads
  closer to the answers people wrote (ROUGE-L, see README "Product questions") than the shop model.
* :class:`ModelWriter` asks a text generator (the shop model trained with ``oscar_llm_train --qa``,
  or any configured backend) for ``Question: ... Evidence: ... Answer:``; an answer that fails the
  checks falls back to the quote.

:func:`check_answer` is the gate every answer passes before anyone sees it: each number must come
from the question or the evidence, words the evidence calls a value (attribute values) must not be
contradicted by another value, no markup, no promise, and it must read as written (fluency).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..guardrails.fluency import fluency_problems
from ..guardrails.html import strip_tags
from ..guardrails.injection import detect
from ..guardrails.text import unknown_numbers
from .ranker import attribute_key, attribute_value, split_candidate

PROMPT_VERSION = "qa-1"
MAX_QUOTE_CHARS = 400
LEAD_INS = {
    "attribute": "From the product details",
    "fact": "From the product details",
    "bullet": "From the product description",
    "description": "From the product description",
    "copy": "From the product description",
    "review": "From a customer review",
    "cqa": "From an earlier answer",
    "answer": "From an earlier answer",
    "article": "From our policies",
}
PROMISE_RE = re.compile(
    r"\b(?:we (?:promise|guarantee)|guaranteed?|refund\w*|compensat\w*|free of charge|discount\w*)\b", re.I
)


def lead_in(source: str, title: str = "") -> str:
    if source == "article" and title:
        return (
            f"From our {title.strip().rstrip('.').lower()} page"
            if "policy" not in title.lower()
            else (f"From our {title.strip().rstrip('.').lower()}")
        )
    return LEAD_INS.get(source, "From what we know about this product")


def _sentence_case(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?":
        text += "."
    return text


def evidence_text(evidence: str, source: str) -> str:
    """The evidence as a customer should read it: an attribute line as ``Name: value``, an earlier
    answer without the question it answered, markup removed, trimmed to a few sentences."""
    evidence = strip_tags(evidence or "")
    key = attribute_key(evidence) if source in ("attribute", "fact") else ""
    if key and "{" in evidence:
        text = f"{key.capitalize()}: {attribute_value(evidence)}"
    else:
        text, _ = split_candidate(evidence)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_QUOTE_CHARS:
        cut = text[:MAX_QUOTE_CHARS]
        end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
        text = cut[: end + 1] if end > 80 else cut.rsplit(" ", 1)[0]
    return _sentence_case(text)


class QuoteWriter:
    """Quote the evidence with a lead-in naming its source."""

    name = "quote"

    def write(self, question: str, evidence: str, source: str, title: str = "") -> str:
        return f"{lead_in(source, title)}: {evidence_text(evidence, source)}"

    def write_many(self, items: Sequence[tuple[str, str, str]]) -> list[str]:
        return [self.write(q, e, s) for q, e, s in items]


def qa_prompt(question: str, evidence: str) -> str:
    """The plain-text form the shop model is trained on (``oscar_llm_train --qa``)."""
    question = re.sub(r"\s+", " ", question).strip()
    return f"Question: {question}\nEvidence: {evidence_text(evidence, '')}\nAnswer:"


class ModelWriter:
    """Ask a text generator for the answer; fall back to the quote when the answer fails a check."""

    def __init__(self, generator: Any, *, max_new_tokens: int = 48, batch_size: int = 16) -> None:
        self.generator = generator
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.name = f"model:{getattr(generator, 'model_id', 'unknown')}"
        self.fallbacks = 0

    def raw(self, items: Sequence[tuple[str, str, str]]) -> list[str]:
        from ..llm.base import GenerationOptions, GenerationRequest

        requests = [GenerationRequest(prompt=qa_prompt(q, e), max_new_tokens=self.max_new_tokens) for q, e, _ in items]
        if not requests:
            return []
        outputs = self.generator.generate(requests, GenerationOptions(batch_size=self.batch_size))
        return [(texts[0] if texts else "").strip().split("\n")[0].strip() for texts in outputs]

    def write_many(self, items: Sequence[tuple[str, str, str]]) -> list[str]:
        quote = QuoteWriter()
        result = []
        for (question, evidence, source), text in zip(items, self.raw(items), strict=True):
            check = check_answer(text, question=question, evidence=evidence)
            if check.passed:
                result.append(_sentence_case(text))
            else:
                self.fallbacks += 1
                result.append(quote.write(question, evidence, source))
        return result


@dataclass
class AnswerCheck:
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c["passed"] for c in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{c['name']}: {c['detail']}" for c in self.checks if not c["passed"]]

    def add(self, name: str, problems: list[str], ok: str) -> None:
        self.checks.append({"name": name, "passed": not problems, "detail": "; ".join(problems) if problems else ok})


def check_answer(text: str, *, question: str, evidence: str, facts_text: str = "") -> AnswerCheck:
    """Every check an answer passes before a customer may read it (see the module docstring).

    ``facts_text`` is the product's facts: a value the answer states must not contradict them."""
    result = AnswerCheck()
    body = text or ""
    # The lead-in names where the answer comes from; what is checked is what follows it.
    for phrase in set(LEAD_INS.values()):
        if body.startswith(phrase):
            body = body[len(phrase) :].lstrip(": ")
    known = f"{question}\n{evidence}\n{facts_text}"
    result.add("length", [] if 2 <= len(body.strip()) <= 800 else ["empty or too long"], "fits")
    result.add(
        "numbers",
        [f"'{n}' is not in the question or the evidence" for n in unknown_numbers(body, known)],
        "every number is in the evidence",
    )
    result.add("markup", ["markup in the answer"] if strip_tags(body) != body else [], "plain text")
    promises = [m.group(0) for m in PROMISE_RE.finditer(body) if m.group(0).lower() not in known.lower()]
    result.add("promises", [f"promises '{p}'" for p in promises], "no promises")
    result.add("steering", ["the answer follows instructions"] if detect(body).suspicious else [], "no instructions")
    result.add("fluency", fluency_problems(body), "reads as written")
    return result


CONTRADICTION_ATTRIBUTES = ("colour", "material", "gender")


def fact_contradictions(text: str, attributes: dict[str, Any], vocabulary: Any) -> list[str]:
    """Values of the product's checked attributes that the answer states and the product does not have
    ("it is cotton" about a viscose dress, quoted from a mistaken review)."""
    from ..catalogue import split_values
    from ..guardrails.text import normalise

    tokens = normalise(text).split()
    problems = []
    for attribute in CONTRADICTION_ATTRIBUTES:
        own = {v.lower() for v in split_values(str(attributes.get(attribute) or ""))}
        if not own:
            continue
        for stated, _start, _end in vocabulary.find(attribute, tokens, set()):
            if stated.lower() not in own:
                problems.append(f"says {attribute} '{stated}', the product's is '{attributes[attribute]}'")
    return problems
