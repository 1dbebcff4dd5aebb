"""``oscar_llm_eval marketing``: a campaign email per catalogue row and segment, through the shop's own pipeline.

For each of the first N rows of a fashion-format CSV the command makes up an offer (a percentage,
a price, a start and an end date; seeded by the row's id, so a run is reproducible) and puts it in
the facts; ``marketing.copy.write_emails`` then writes the email for each segment exactly as a
campaign's copy job does (the model writes the product's name, the patterns the rest, the checks
judge the whole). An independent audit, with its own simple matching, then counts accepted emails
that state a price, percentage or date not in the facts, or a gender, colour or article type that
contradicts the row (``content``'s ``ContradictionAudit``), so a bug in the checks cannot hide itself.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..catalogue import Vocabulary, facts_from_fashion_row
from ..content.training_data import read_fashion_csv
from ..guardrails.html import plain_text
from ..llm.base import GenerationOptions, TextGenerator
from ..marketing.copy import campaign_facts, fill_slots, write_emails
from .content import ContradictionAudit, write_jsonl

SEGMENTS = ("new", "active", "lapsing", "lapsed", "value", "premium")
PERCENTS = (10, 15, 20, 25, 30, 40)
PRICES = ("19.99", "24.99", "29.99", "34.50", "39.99", "49.00", "59.99", "74.99", "89.99", "120.00")
# Offers start within two weeks of this day and run for three days to three weeks.
BASE_DATE = date(2026, 12, 7)

_AUDIT_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_AUDIT_MONEY_RE = re.compile(r"£\s?(\d+(?:\.\d+)?)")
_AUDIT_DATE_RE = re.compile(
    r"\b(\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|December)"
    r"(?: (\d{4}))?"
)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def made_up_offer(row_id: str, seed: int = 0) -> dict[str, Any]:
    """A percentage, a price and dates for a row, the same on every run."""
    rng = random.Random(f"{seed}:{row_id}")
    start = BASE_DATE + timedelta(days=rng.randint(0, 14))
    return {
        "percent": rng.choice(PERCENTS),
        "price": Decimal(rng.choice(PRICES)),
        "start": start,
        "end": start + timedelta(days=rng.randint(3, 21)),
    }


def audit_terms(text: str, facts: Mapping[str, Any]) -> list[str]:
    """Percentages, £ amounts and day-month dates in ``text`` that the facts do not hold (simple matching)."""
    problems = []
    percent = (facts.get("offer") or {}).get("percent")
    for raw in _AUDIT_PERCENT_RE.findall(text):
        if percent is None or Decimal(raw) != Decimal(str(percent)):
            problems.append(f"percentage {raw}% not in the facts")
    prices = {Decimal(str(v)) for v in (facts.get("prices") or {}).values()}
    for raw in _AUDIT_MONEY_RE.findall(text):
        if Decimal(raw) not in prices:
            problems.append(f"price £{raw} not in the facts")
    dates = {date.fromisoformat(v) for v in (facts.get("dates") or {}).values() if v}
    for day, month, year in _AUDIT_DATE_RE.findall(text):
        month_number = _MONTHS.index(month) + 1
        if not any(d.day == int(day) and d.month == month_number and (not year or d.year == int(year)) for d in dates):
            problems.append(f"date {day} {month} {year} not in the facts".replace("  ", " "))
    return problems


def customer_view(email: Mapping[str, Any]) -> str:
    """The email as a customer reads it in a plain-text client (no first name: "Hello there")."""
    body = fill_slots(email["body_text"], {"first_name": "", "link": "<link>"})
    return f"Subject: {email['subject']}\n{email['preheader']}\n\n{email['headline']}\n\n{body}"


def evaluate_marketing(
    catalogue: str | Path,
    generator: TextGenerator | None,
    *,
    limit: int = 200,
    segments: Sequence[str] = SEGMENTS,
    out: str | Path | None = None,
    batch_size: int = 32,
    seed: int = 0,
    progress: bool = True,
    chunk_size: int = 64,
) -> dict[str, Any]:
    """One email per row and segment for the first ``limit`` rows; JSONL to ``out``; a summary."""
    from tqdm.auto import tqdm

    rows = read_fashion_csv(catalogue)
    all_facts = [facts_from_fashion_row(row) for row in rows]
    vocabulary = Vocabulary.from_facts(all_facts)
    audit = ContradictionAudit(rows)
    selected = list(range(min(limit, len(rows)))) if limit and limit > 0 else list(range(len(rows)))
    options = GenerationOptions(do_sample=False, num_candidates=1, batch_size=batch_size, seed=seed or 1234)

    items = []
    for i in selected:
        offer = made_up_offer(str(rows[i].get("id")), seed)
        product = {**all_facts[i], "price": offer["price"], "currency": "GBP"}
        facts = campaign_facts(
            product, goal="offer", segment="everyone", percent=offer["percent"], start=offer["start"], end=offer["end"]
        )
        items.append(facts)

    emails_per_row = []
    started = time.perf_counter()
    with tqdm(total=len(items), disable=not progress, unit="product", desc="marketing", dynamic_ncols=True) as bar:
        for start in range(0, len(items), chunk_size):
            chunk = items[start : start + chunk_size]
            emails_per_row += write_emails(
                generator, [(facts, list(segments)) for facts in chunk], vocabulary, variants=1, options=options
            )
            bar.update(len(chunk))
    seconds = time.perf_counter() - started

    records = []
    reasons: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    accepted = audited_terms = audited_attributes = 0
    for i, facts, emails in zip(selected, items, emails_per_row, strict=True):
        row = rows[i]
        brand = all_facts[i]["attributes"].get("brand", "")
        for email in emails:
            record = email.as_dict()
            text = customer_view(record)
            readable = plain_text(text)
            term_problems = audit_terms(readable, facts)
            # The product's own title is a fact; the audit judges what the email says around it.
            attribute_problems = audit.contradictions(readable.replace(all_facts[i]["title"], " "), row, brand)
            if email.accepted:
                accepted += 1
                sources[email.sources.get("name", "")] += 1
                audited_terms += bool(term_problems)
                audited_attributes += bool(attribute_problems)
            reasons.update({r["check"] for r in email.reasons})
            records.append(
                {
                    "id": row.get("id"),
                    "segment": email.segment,
                    "variant": email.variant,
                    "facts": facts,
                    "subject": email.subject,
                    "preheader": email.preheader,
                    "headline": email.headline,
                    "body": fill_slots(email.body_text, {"first_name": "", "link": "<link>"}),
                    "body_html": email.body_html,
                    "cta": email.cta,
                    "accepted": email.accepted,
                    "reasons": email.reasons,
                    "sources": email.sources,
                    "audit": term_problems + attribute_problems,
                }
            )
    if out:
        write_jsonl(out, records)
    generated = len(records)
    return {
        "what": "marketing",
        "catalogue": str(catalogue),
        "model": getattr(generator, "model_id", "none") if generator is not None else "none",
        "products": len(items),
        "segments": list(segments),
        "generated": generated,
        "accepted": accepted,
        "rejected": generated - accepted,
        "accepted_rate": round(accepted / generated, 4) if generated else 0.0,
        # Of the accepted, where the product's name in the subject and headline came from.
        "accepted_name_from_model": sources.get("model", 0),
        "accepted_name_from_title": sources.get("title", 0),
        "accepted_name_from_pattern": sources.get("pattern", 0),
        "accepted_with_terms_not_in_facts": audited_terms,
        "accepted_contradicting_row": audited_attributes,
        "reject_reasons": dict(reasons),
        "seconds": round(seconds, 2),
        "items_per_second": round(generated / seconds, 2) if seconds else None,
        "out": str(out) if out else None,
    }
