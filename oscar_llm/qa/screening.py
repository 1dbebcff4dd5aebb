"""What a question is before anyone tries to answer it: abusive, about an order, holding personal data.

Run when the question is asked (no model: plain patterns, in the web process):

* **abusive** (slurs, insults aimed at people, threats): rejected at once, never shown;
* **order question** ("where is my parcel?", "my order #1234 has not arrived"): not a question about
  the product; it opens a support ticket for the customer, who is told so;
* **personal data** (an e-mail, a phone or card number, an address... found by the redaction patterns
  of ``guardrails/redaction.py``): answered for the asker, never published;
* **steering** (an instruction to the model, markup): kept as data; the answer is drawn from the evidence
  only, so the question's text cannot change what is written, and it is never auto-published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..guardrails.injection import detect
from ..guardrails.redaction import Redactor

ABUSIVE_RE = re.compile(
    r"\b(?:fuck\w*|f\*+k\w*|shit\w*|cunt\w*|bastard\w*|bitch\w*|dickhead\w*|asshole\w*|arsehole\w*|wanker\w*"
    r"|retard\w*|idiot\w*|moron\w*|scum\w*|stupid (?:shop|people|staff|company)"
    r"|(?:i(?:'ll| will)|we(?:'ll| will)) (?:kill|hurt|find) you|kill yourself|kys)\b",
    re.I,
)
ORDER_RE = re.compile(
    r"\b(?:my|our)\s+(?:order|parcel|package|delivery|shipment|refund|return|purchase|tracking)\b"
    r"|\border\s*(?:number|no\.?|#|id)\s*[:#]?\s*[A-Z0-9-]{3,}"
    r"|\bwhere\s+is\s+(?:it|my)\b|\bhas(?:n't| not)\s+(?:arrived|been (?:delivered|shipped|dispatched))"
    r"|\b(?:cancel|track)\s+(?:my|the)\s+order\b|\bwhen will (?:it|my \w+) (?:arrive|be delivered|ship)\b",
    re.I,
)


@dataclass
class Screening:
    abusive: bool = False
    order: bool = False
    personal: list[str] = field(default_factory=list)
    steering: list[str] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        flags = []
        if self.abusive:
            flags.append("abusive")
        if self.order:
            flags.append("order")
        if self.personal:
            flags.append("personal_data")
        flags += [f"steering:{s}" for s in self.steering]
        return flags


def personal_data(text: str) -> list[str]:
    """The kinds of personal data the redaction patterns find in ``text`` (``["EMAIL", "PHONE"]``)."""
    redactor = Redactor()
    redactor.redact(text)
    kinds = sorted({re.sub(r"[\W\d_]+", "", placeholder).upper() for placeholder in redactor.mapping})
    return [k for k in kinds if k]


def screen(text: str) -> Screening:
    return Screening(
        abusive=bool(ABUSIVE_RE.search(text)),
        order=bool(ORDER_RE.search(text)),
        personal=personal_data(text),
        steering=list(detect(text).flags),
    )
