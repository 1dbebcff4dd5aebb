"""Checks a support draft passes before staff see it as a ready reply.

Every order number, amount, date, duration ("within 30 days"), number and
quoted product name in the draft must come from the gathered facts (this
customer's orders, the retrieved articles, the shop's contact facts); no order
of another customer may appear; promises (refunds, compensation, discounts,
anything "free") need a policy sentence that grants them; markup is removed;
length and language are checked; a customer message that tries to steer the
model sends the ticket to a human whatever was generated.

``check_draft`` returns the cleaned text, the check results
(``{"name", "passed", "detail"}``) and article citations with spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..guardrails.fluency import fluency_problems
from ..guardrails.fluency import repeated_ngram as _repeated_ngram
from ..guardrails.html import strip_tags
from ..guardrails.injection import detect
from ..guardrails.language import language_problem
from .facts import PLACEHOLDER_RE, UI_LABELS, GatheredFacts
from .prompts import order_summary

MIN_LENGTH = 20
MAX_LENGTH = 2500

NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
ENUMERATOR_RE = re.compile(r"(?m)^\s*\d{1,2}[.)](?=\s)")
# A list that stops at the number of its next item ("...\n5.") was cut off.
DANGLING_ITEM_RE = re.compile(r"(?:^|\n)\s*(?:\d{1,2}[.)]|[-*•])\s*$")
# Long digit runs and "order #X"/"order number X" are order references.
ORDER_REF_RE = re.compile(
    r"(?:order|purchase)\s*(?:number|no\.?|id|#|reference)?\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{2,})\b|(?<![\w.+-])(\d{5,})(?![\w.-])",
    re.I,
)
AMOUNT_RE = re.compile(
    r"[£$€]\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:GBP|EUR|USD|pounds?|dollars?|euros?)\b", re.I
)
MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
DATE_RE = re.compile(
    rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{MONTHS})(?:\s+\d{{4}})?\b"
    rf"|\b(?:{MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b",
    re.I,
)
DURATION_RE = re.compile(
    r"\b(\d+)(?:\s*(?:-|–|to|and)\s*(\d+))?\s+(?:working\s+|business\s+|calendar\s+)?(day|hour|week|month|year)s?\b",
    re.I,
)
QUOTED_RE = re.compile(r"[\"“]([^\"”\n]{3,80})[\"”]")
# Words that promise something; each needs a policy sentence that grants it.
PROMISE_RE = re.compile(
    r"\b(refund\w*|reimburs\w*|compensat\w*|discount\w*|voucher\w*|coupon\w*|store credit|money back|gift cards?"
    r"|free(?= (?:of charge|shipping|delivery|returns?|exchanges?|replacements?|upgrades?))|(?<=for )free)\b",
    re.I,
)
# Promises no policy can back.
OUTSIDE_POLICY_RE = re.compile(
    r"\b(?:refund\w*|reimburs\w*)\b[^.\n]{0,40}"
    r"\b(?:everything|every order|all (?:of )?(?:your |the )?orders|all customers|twice|double)\b"
    r"|\b(?:full|100%|double)\s+refund",
    re.I,
)
NEGATION_RE = re.compile(r"\b(?:not|never|no|cannot|can't|don't|do not|won't|without)\b", re.I)
SCRIPT_RE = re.compile(r"<\s*(?:script|iframe|object|embed|style)\b|javascript:|on\w+\s*=", re.I)
SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]?")


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def _unit(word: str) -> str:
    return word.lower().rstrip("s")


@dataclass
class DraftCheck:
    text: str
    checks: list[dict] = field(default_factory=list)
    citations: list[dict] = field(default_factory=list)
    # Where in ``text`` each statement the facts do not back stands (order numbers, amounts, dates,
    # durations, numbers, quoted names, promises): a library reply can lose those sentences instead
    # of the whole reply (``drop_unsupported``).
    unsupported: list[tuple[int, int]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c["passed"] for c in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{c['name']}: {c['detail']}" for c in self.checks if not c["passed"]]

    def add(self, name: str, problems: list[str], ok: str = "") -> None:
        self.checks.append(
            {"name": name, "passed": not problems, "detail": "; ".join(dict.fromkeys(problems)) if problems else ok}
        )


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_RE.findall(text) if s.strip()]


def _known_text(facts: GatheredFacts) -> str:
    parts = [a.title + "\n" + a.body for a in facts.all_articles]
    parts += [order_summary(o) for o in facts.orders]
    parts += [facts.customer_name, facts.shop_name, *sorted(facts.stated_references)]
    # The shop's own page names (what filled placeholders say) are facts too.
    parts += sorted(set(UI_LABELS.values()))
    return "\n".join(p for p in parts if p)


def _article_sentence(facts: GatheredFacts, predicate) -> tuple[object, str] | None:  # type: ignore[no-untyped-def]
    for article in facts.all_articles:
        for sentence in _sentences(article.body):
            if predicate(sentence):
                return article, sentence
    return None


def _cite(result: DraftCheck, article, quote: str, start: int, end: int) -> None:  # type: ignore[no-untyped-def]
    result.citations.append(
        {"kind": "article", "id": article.id, "title": article.title, "quote": quote, "start": start, "end": end}
    )


def check_draft(
    text: str, facts: GatheredFacts, customer_text: str = "", *, language: str = "en", filled_spans=()
) -> DraftCheck:  # type: ignore[no-untyped-def]
    """Run every check on an already placeholder-filled draft."""
    problems: list[str]
    result = DraftCheck(text=text)

    # Markup: replies are plain text. Script-like content means the model was steered.
    problems = []
    if SCRIPT_RE.search(text):
        problems.append("the draft contained script or active content")
    if re.search(r"<[a-zA-Z/!][^>]*>", text):
        text = strip_tags(text.replace("\n", "\u2029")).replace("\u2029", "\n")
    result.text = text = text.strip()
    result.add("html", problems, "plain text")

    unfilled = [m.group(0) for m in PLACEHOLDER_RE.finditer(text)]
    problems = [f"no fact for {p}" for p in unfilled]
    if re.search(r"\{\{|\}\}|\{|\}", PLACEHOLDER_RE.sub("", text)):
        problems.append("a broken placeholder (stray braces)")
    result.add("placeholders", problems, "all filled from facts")

    # Spans that were filled from facts are known good; leave them out of the fact scans.
    masked = list(text)
    for start, end in filled_spans:
        for i in range(start, min(end, len(masked))):
            masked[i] = " "
    scan = "".join(masked)
    scan_no_enum = ENUMERATOR_RE.sub(lambda m: " " * len(m.group(0)), scan)

    known = _known_text(facts)
    known_lower = known.lower()

    # Order numbers: only this customer's.
    problems = []
    own = {n.lower() for n in facts.order_numbers | facts.stated_references}
    for match in ORDER_REF_RE.finditer(scan_no_enum):
        ref = (match.group(1) or match.group(2) or "").strip("-")
        if not ref or not any(c.isdigit() for c in ref):
            continue
        if ref.lower() not in own:
            problems.append(f"order {ref} is not one of this customer's orders")
            result.unsupported.append(match.span())
    result.add("order_numbers", problems, "only the customer's own orders (or the number they wrote)")

    # Amounts: order totals and prices, or figures the policies state.
    allowed_amounts = {_decimal(m.group(1) or m.group(2)) for m in AMOUNT_RE.finditer(known)}
    for order in facts.orders:
        allowed_amounts.add(_decimal(order.total))
        allowed_amounts.update(_decimal(line.price) for line in order.lines)
    problems = []
    for match in AMOUNT_RE.finditer(scan_no_enum):
        value = _decimal(match.group(1) or match.group(2))
        if value not in allowed_amounts:
            problems.append(f"amount {match.group(0).strip()} is in no order or policy")
            result.unsupported.append(match.span())
        else:
            found = _article_sentence(facts, lambda s, m=match: m.group(0).strip() in s)
            if found:
                _cite(result, found[0], found[1], match.start(), match.end())
    result.add("amounts", problems, "amounts from orders and policies")

    # Dates: an order's dates, or dates the articles state.
    order_dates = {o.placed[:10] for o in facts.orders if o.placed}
    problems = []
    for match in DATE_RE.finditer(scan):
        raw = match.group(0)
        if raw[:10] in order_dates or raw.lower() in known_lower:
            continue
        problems.append(f"date {raw} is in no order or policy")
        result.unsupported.append(match.span())
    result.add("dates", problems, "dates from orders")

    # Durations and deadlines ("within 30 days", "5 to 10 business days") must be policy.
    stated = set()
    for match in DURATION_RE.finditer(known):
        for group in (1, 2):
            if match.group(group):
                stated.add((int(match.group(group)), _unit(match.group(3))))
    problems = []
    duration_spans = []
    for match in DURATION_RE.finditer(scan):
        numbers = [int(match.group(g)) for g in (1, 2) if match.group(g)]
        unit = _unit(match.group(3))
        if all((n, unit) in stated for n in numbers):
            duration_spans.append((match.start(), match.end()))
            found = _article_sentence(
                facts,
                lambda s, ns=numbers, u=unit: all(re.search(rf"\b{n}\b", s) for n in ns) and u in s.lower(),
            )
            if found:
                _cite(result, found[0], found[1], match.start(), match.end())
        else:
            problems.append(f"'{match.group(0)}' is not what the policies say")
            result.unsupported.append(match.span())
    result.add("policy_statements", problems, "durations match the policies")

    # Any other number must appear in the facts (quantities, house rules...).
    known_numbers = {_decimal(n) for n in NUMBER_RE.findall(known)}
    problems = []
    for match in NUMBER_RE.finditer(scan_no_enum):
        if any(s <= match.start() < e for s, e in duration_spans):
            continue
        if _decimal(match.group(0)) not in known_numbers and match.group(0).lower() not in known_lower:
            problems.append(f"number {match.group(0)} is in no fact")
            result.unsupported.append(match.span())
    result.add("numbers", problems, "numbers from facts")

    # Quoted names (products, pages) must exist in the facts.
    unknown_names = [m for m in QUOTED_RE.finditer(scan) if m.group(1).strip().lower() not in known_lower]
    problems = [f"'{m.group(1)}' is in no fact" for m in unknown_names]
    result.unsupported += [m.span() for m in unknown_names]
    for order in facts.orders:
        for line in order.lines:
            start = text.lower().find(line.title.lower())
            if line.title and start >= 0:
                result.citations.append(
                    {
                        "kind": "order",
                        "number": order.number,
                        "field": "lines",
                        "value": line.title,
                        "start": start,
                        "end": start + len(line.title),
                    }
                )
    result.add("products", problems, "names from facts")

    # Promises: each needs a policy sentence (not a negated one) that grants it.
    outside = list(OUTSIDE_POLICY_RE.finditer(text))
    problems = [f"'{m.group(0)}' is outside policy" for m in outside]
    result.unsupported += [m.span() for m in outside]
    for match in PROMISE_RE.finditer(text):
        word = match.group(1).lower()
        stem = word[:6] if len(word) > 6 else word
        if stem.startswith("reimbu") or stem == "money back":
            stem = "refund"  # the same promise in other words: a refund policy must grant it
        sentence = next((s for s in _sentences(text) if word in s.lower()), "")
        if NEGATION_RE.search(sentence):
            continue  # "we cannot offer a discount" promises nothing
        found = _article_sentence(facts, lambda s, st=stem: st in s.lower() and not NEGATION_RE.search(s))
        if found is None:
            problems.append(f"'{match.group(0)}' is promised but no retrieved policy grants it")
            result.unsupported.append(match.span())
        else:
            _cite(result, found[0], found[1], match.start(), match.end())
    result.add("promises", problems, "promises backed by policy")

    # Length, completeness and language.
    problems = []
    if len(text) < MIN_LENGTH:
        problems.append(f"shorter than {MIN_LENGTH} characters")
    if len(text) > MAX_LENGTH:
        problems.append(f"longer than {MAX_LENGTH} characters")
    if (text and text[-1] not in ".!?)\"'»”" and not text.endswith("]")) or DANGLING_ITEM_RE.search(text):
        problems.append("ends mid-sentence (cut off)")
    sentences = [s.lower() for s in _sentences(text) if len(s) > 20]
    if len(sentences) != len(set(sentences)) or _repeated_ngram(text):
        problems.append("repeats itself")
    result.add("length", problems, f"{len(text)} characters")
    result.add("fluency", fluency_problems(text), "reads as written")
    problem = language_problem(text, language) if text else None
    result.add("language", [problem] if problem else [], language)

    # The customer's message itself.
    report = detect(customer_text)
    result.add(
        "injection",
        [f"the customer's message looks like an attempt to steer the model ({', '.join(report.flags)})"]
        if report.suspicious
        else [],
        "no manipulation found",
    )
    return result
