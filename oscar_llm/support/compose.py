"""Adapt and fill a library reply for one customer (docs/architecture.md, "Support drafts").

A library reply carries ``{{Slot}}`` placeholders. Each is filled from this
customer's facts or this shop's articles (:meth:`.facts.GatheredFacts.resolve`:
orders, contact lines, policy values such as the return window); a slot with
no fact behind it is never left in and never guessed:

- a customer fact the reply needs (the order number) becomes a neutral phrase
  ("your order") and the reply asks for it, in a sentence written for that slot;
- a slot the shop does not have (a "Cancel Order" button, another shop's
  "Termination Fees") takes its sentence or list item with it (lists are
  renumbered).

Returns the text with its placeholders still in for the known facts, so that
:meth:`.facts.GatheredFacts.fill` fills them and records where each value came
from (the draft's citations); :func:`compose` does both.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .checks import DraftCheck
from .facts import ORDER_FIELDS, PLACEHOLDER_RE, UI_LABELS, GatheredFacts, canonical

# A customer fact a reply may need: the phrases that stand in for it when it is missing, and the
# question that asks the customer for it ("{slot}" is the placeholder as written in the reply).
ASK_ORDER = (
    "Could you tell us the number of the order this is about? You find it in your order confirmation "
    "e-mail and in the {{Order History}} of your account."
)
ASK_INVOICE = "Could you tell us the invoice number, or the number of the order it belongs to?"


@dataclass(frozen=True)
class MissingSlot:
    phrases: tuple[tuple[str, str], ...]  # (regex around "{slot}", replacement)
    question: str = ""


_ORDER_MISSING = MissingSlot(
    phrases=(
        (r"(?:the |your )?(?:order|purchase)(?:\s+(?:number|no\.?|id|ID|reference))?\s*(?:#\s*)?{slot}", "your order"),
        (r"(?:the |your )?(?:number\s+)?{slot}", "your order"),
    ),
    question=ASK_ORDER,
)
MISSING: dict[str, MissingSlot] = {
    **dict.fromkeys([k for k, v in ORDER_FIELDS.items() if v == "number"], _ORDER_MISSING),
    **dict.fromkeys(
        ["invoice number", "invoice id", "bill number", "invoice"],
        MissingSlot(
            phrases=(
                (r"(?:the |your )?(?:invoice|bill)(?:\s+(?:number|no\.?|id))?\s*(?:#\s*)?{slot}", "your invoice"),
                (r"{slot}", "your invoice"),
            ),
            question=ASK_INVOICE,
        ),
    ),
    # A name only goes where it greets or thanks ("Hello {{Customer Name}}," -> "Hello,"); anywhere else
    # ("the bill from {{Customer Name}}") the sentence goes with it.
    **dict.fromkeys(
        ["customer name", "name", "client name", "first name", "full name", "person name"],
        MissingSlot(
            phrases=(
                (r"\b(Hi|Hello|Dear|Hey|Greetings|Welcome)[ \t]+{slot}(?=\s*[,!.])", r"\1"),
                (r",[ \t]*{slot}(?=\s*[!.])", ""),
            )
        ),
    ),
    **dict.fromkeys(
        ["refund amount", "amount", "total amount"],
        MissingSlot(phrases=((r"(?:a |the |your )?(?:refund (?:of|for) )?{slot}(?: refund)?", "your refund"),)),
    ),
    **dict.fromkeys(
        ["delivery city", "city", "delivery country", "country", "shipping city", "shipping country"],
        MissingSlot(
            phrases=(
                (r"\bto (?:the )?{slot}", "to your address"),
                (r"\bin (?:the )?{slot}", "in your area"),
                (r"(?:the )?{slot}", "your area"),
            )
        ),
    ),
    "account type": MissingSlot(
        phrases=((r"(?:an? |the |your )?{slot} account", "your account"), (r"(?:an? |the |your )?{slot}", "your"))
    ),
}

LIST_ITEM_RE = re.compile(r"^(\s*)(\d{1,2})([.)])(\s+)")
SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")


@dataclass
class Composition:
    text: str  # filled
    citations: list[dict] = field(default_factory=list)  # spans into ``text``
    slots: list[dict] = field(default_factory=list)  # {"slot", "value", "source"} or {"slot", "missing": how}
    questions: list[str] = field(default_factory=list)
    unfilled: list[str] = field(default_factory=list)


def _drop(text: str, placeholder: str) -> str:
    """``text`` without the sentence or list item that holds ``placeholder``."""
    lines = text.split("\n")
    kept: list[str] = []
    for line in lines:
        if placeholder not in line:
            kept.append(line)
            continue
        if LIST_ITEM_RE.match(line):
            continue  # the whole list item goes
        sentences = SENTENCE_SPLIT_RE.split(line)
        rest = [s for s in sentences if placeholder not in s]
        if rest:
            kept.append(" ".join(rest))
    return _renumber("\n".join(kept))


def _renumber(text: str) -> str:
    """Number each run of list items 1, 2, 3... again (after an item was dropped)."""
    out = []
    expected = 0
    for line in text.split("\n"):
        match = LIST_ITEM_RE.match(line)
        if match:
            expected += 1
            line = f"{match.group(1)}{expected}{match.group(3)}{match.group(4)}{line[match.end() :]}"
        elif line.strip():
            expected = 0
        out.append(line)
    return "\n".join(out)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([,.!?;:])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"(?m)^[ \t]+(?=\S)(?!\d)", "", text)
    text = re.sub(r"\b(?:[Tt]he|[Aa]n?|your) your\b", "your", text)
    return text.strip()


def _ask(text: str, questions: list[str]) -> str:
    """The questions as their own paragraph after the reply's opening paragraph."""
    if not questions:
        return text
    block = " ".join(questions)
    parts = text.split("\n\n", 1)
    if len(parts) == 1:
        return f"{text}\n\n{block}"
    return f"{parts[0]}\n\n{block}\n\n{parts[1]}"


QUOTED_LABEL_RE = re.compile(r"([\"“])([^\"”\n{}]{2,40})([\"”])")
SAME_PAGE_TWICE_RE = re.compile(r"([\"“])\{\{([^{}]+)\}\}([\"”])\s+or\s+[\"“]\{\{([^{}]+)\}\}[\"”]")


def quoted_pages(text: str) -> str:
    """A page or button another shop's reply quotes ("Shipping Address") that this shop has under its own
    name becomes its slot, so that it is filled with this shop's name for it ("Address Book"); two
    quoted names for the same page of this shop ('"Shipping Address" or "Delivery Address"') become one."""

    def to_slot(match: re.Match[str]) -> str:
        name = match.group(2).strip()
        if canonical(name) not in UI_LABELS:
            return match.group(0)
        return f"{match.group(1)}{{{{{name}}}}}{match.group(3)}"

    def once(match: re.Match[str]) -> str:
        first, second = UI_LABELS.get(canonical(match.group(2))), UI_LABELS.get(canonical(match.group(4)))
        if first is None or first != second:
            return match.group(0)
        return f"{match.group(1)}{{{{{match.group(2)}}}}}{match.group(3)}"

    return SAME_PAGE_TWICE_RE.sub(once, QUOTED_LABEL_RE.sub(to_slot, text))


def adapt(template: str, facts: GatheredFacts) -> tuple[str, list[dict], list[str]]:
    """(the reply with missing facts rephrased or asked for, what happened to each missing slot, the questions)."""
    text = template = quoted_pages(template)
    missing: list[dict] = []
    questions: list[str] = []
    for match in list(PLACEHOLDER_RE.finditer(template)):
        placeholder, name = match.group(0), match.group(1)
        if placeholder not in text or facts.resolve(name) is not None:
            continue
        how = MISSING.get(canonical(name))
        if how is not None:
            slot_re = re.escape(placeholder)
            for pattern, replacement in how.phrases:
                text = re.sub(pattern.replace("{slot}", slot_re), replacement, text)
                if placeholder not in text:
                    break
            if how.question and how.question not in questions:
                questions.append(how.question)
            if placeholder not in text:
                missing.append({"slot": name, "missing": "asked" if how.question else "rephrased"})
        if placeholder in text:
            text = _drop(text, placeholder)
            missing.append({"slot": name, "missing": "dropped: the shop has no fact for it"})
    return _tidy(_ask(_tidy(text), questions)), missing, questions


def as_template(text: str, slots: Sequence[Mapping[str, Any]], sources: Collection[str] | None = None) -> str:
    """``text`` with each value a slot was filled with put back as its ``{{Slot}}`` (only the values of
    ``sources``, when given): the form library replies are kept in."""
    for slot in sorted(slots, key=lambda s: -len(str(s.get("value") or ""))):
        value = str(slot.get("value") or "")
        if value and slot.get("slot") and (sources is None or slot.get("source") in sources):
            text = text.replace(value, "{{" + str(slot["slot"]) + "}}")
    return text


def compose(template: str, facts: GatheredFacts) -> Composition:
    """The library reply adapted to this customer and filled from their facts, with the provenance of every value."""
    text, missing, questions = adapt(template, facts)
    filled, citations, unfilled = facts.fill(text)
    slots: list[dict] = []
    for match in PLACEHOLDER_RE.finditer(text):
        resolved = facts.resolve(match.group(1))
        if resolved is None:
            continue
        value, citation = resolved
        entry = {"slot": match.group(1), "value": value, "source": citation.get("kind", "")}
        if citation.get("kind") == "customer":
            entry["field"] = citation.get("field", "")
        if citation.get("kind") == "article":
            entry["article"] = citation.get("title", "")
        elif citation.get("kind") == "order":
            entry["field"] = citation.get("field", "")
        if entry not in slots:
            slots.append(entry)
    return Composition(text=filled, citations=citations, slots=slots + missing, questions=questions, unfilled=unfilled)


# The checks whose problems are statements at a place in the text (``DraftCheck.unsupported``).
LOCAL_CHECKS = {"order_numbers", "amounts", "dates", "policy_statements", "numbers", "products", "promises"}


def drop_unsupported(checked: DraftCheck) -> tuple[str, int] | None:
    """The text without the sentences (or list items) that hold an unsupported statement, and how many
    went; None when a failed check is not about such a statement (markup, length, the customer's message...).

    For a library reply written for another shop: "within 14 days" or a "Cancel Order" button this
    shop does not have takes its sentence with it, and the rest of the reply, checked again, can stand.
    """
    failed = {c["name"] for c in checked.checks if not c["passed"]}
    if not failed or not failed <= LOCAL_CHECKS or not checked.unsupported:
        return None
    text = checked.text
    kept, dropped = [], 0
    position = 0
    for line in text.split("\n"):
        line_start, line_end = position, position + len(line)
        position = line_end + 1
        if not any(line_start <= s < line_end for s, _e in checked.unsupported):
            kept.append(line)
            continue
        if re.match(r"\s*(?:\d{1,2}[.)]|[-*•])\s", line):
            dropped += 1  # the whole list item
            continue
        parts, cursor = [], line_start
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            start = text.find(sentence, cursor)
            end = start + len(sentence)
            cursor = end
            if any(start <= s < end for s, _e in checked.unsupported):
                dropped += 1
            else:
                parts.append(sentence)
        if parts:
            kept.append(" ".join(parts))
    repaired = _renumber("\n".join(kept))
    repaired = re.sub(r"\n{3,}", "\n\n", repaired).strip()
    return repaired, dropped


def relocate(citations: list[dict], before: str, after: str) -> list[dict]:
    """Citations with spans into ``before``, moved to where their values stand in ``after`` (dropped if gone)."""
    moved, cursor = [], 0
    for citation in sorted(citations, key=lambda c: c.get("start", 0)):
        if "start" not in citation:
            moved.append(citation)
            continue
        value = before[citation["start"] : citation["end"]]
        found = after.find(value, cursor)
        if value and found >= 0:
            moved.append({**citation, "start": found, "end": found + len(value)})
            cursor = found + len(value)
    return moved
