"""Personal data -> placeholders before text leaves the process, and back again after.

``redact`` replaces e-mail addresses, card numbers (Luhn-checked), IBANs,
phone numbers, postcodes/street addresses and any extra values the caller
knows are personal (the customer's name, their street) with placeholders
such as ``[EMAIL_1]``. The mapping is returned so a draft written by an
external model about ``[EMAIL_1]`` can be restored for staff. The same value
always gets the same placeholder within one :class:`Redactor`, so a request
made of several texts (messages, facts) stays consistent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
# IBAN: country code, 2 check digits, 11-30 alphanumerics, optionally in groups of four.
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
# 13-19 digits with optional single spaces or dashes between them.
CARD_RE = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
# International or national phone numbers: +44 20 7946 0000, (555) 123-4567, 07700 900123.
PHONE_RE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,6}(?:[\s.-]\d{2,6}){1,4}(?![\w])")
# A house number, a street name and a street word: "221B Baker Street", "12 rue de la Paix".
STREET_RE = re.compile(
    r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'-]*\s+){0,4}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Square|Sq|Boulevard|Blvd|Close|Terrace)\b\.?"
    r"|\b(?:rue|via|calle|avenida)\s+(?:[\w'-]+\s+){0,4}\d{0,4}",
    re.IGNORECASE,
)
# UK postcodes (the demo shop is in the UK) and US ZIP+4.
POSTCODE_RE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b\d{5}-\d{4}\b")

DATE_LIKE_RE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")

PLACEHOLDER_RE = re.compile(r"\[(EMAIL|CARD|IBAN|PHONE|ADDRESS|POSTCODE|NAME|PERSONAL)_(\d+)\]")


def luhn_valid(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _iban_valid(raw: str) -> bool:
    compact = raw.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _looks_like_phone(raw: str) -> bool:
    """Seven digits or more, and not a date ("2026-11-02") or a decimal amount."""
    if DATE_LIKE_RE.fullmatch(raw):
        return False
    return sum(c.isdigit() for c in raw) >= 7


@dataclass
class Redactor:
    """Replaces personal data with numbered placeholders and remembers how to undo it.

    ``keep`` lists values that must survive redaction even if they look like a
    phone or card number (the shop's own order numbers and support phone number:
    the external model needs them and they identify no person on their own).
    """

    keep: set[str] = field(default_factory=set)
    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    _reverse: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def _placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._reverse:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind}_{self._counts[kind]}]"
            self._reverse[key] = placeholder
            self.mapping[placeholder] = value
        return self._reverse[key]

    def _sub(self, pattern: re.Pattern[str], kind: str, text: str, valid=None) -> str:  # type: ignore[no-untyped-def]
        def replace(match: re.Match[str]) -> str:
            value = match.group(0)
            stripped = value.strip()
            if stripped in self.keep or re.sub(r"[\s-]", "", stripped) in self.keep:
                return value
            if valid is not None and not valid(stripped):
                return value
            return self._placeholder(kind, stripped) + value[len(value.rstrip()) :]

        return pattern.sub(replace, text)

    def redact(self, text: str, personal: Iterable[str] = ()) -> str:
        """``text`` with personal data replaced; ``personal`` adds known values (names, streets...)."""
        if not text:
            return text
        # Structured data first (a name inside an e-mail address goes with the address).
        text = self._sub(EMAIL_RE, "EMAIL", text)
        text = self._sub(IBAN_RE, "IBAN", text, _iban_valid)
        text = self._sub(CARD_RE, "CARD", text, lambda v: luhn_valid(re.sub(r"[\s-]", "", v)))
        # Known values, longest first, so "Jane Doe" wins over "Jane".
        for value in sorted({v.strip() for v in personal if v and len(v.strip()) >= 2}, key=len, reverse=True):
            kind = "NAME" if not any(c.isdigit() for c in value) else "PERSONAL"
            text = re.sub(
                rf"(?<!\w){re.escape(value)}(?!\w)",
                lambda _m, v=value, k=kind: self._placeholder(k, v),
                text,
                flags=re.I,
            )
        text = self._sub(STREET_RE, "ADDRESS", text)
        text = self._sub(POSTCODE_RE, "POSTCODE", text)
        text = self._sub(PHONE_RE, "PHONE", text, _looks_like_phone)
        return text

    def restore(self, text: str) -> str:
        """Put the original values back (unknown placeholders are left as they are)."""
        return PLACEHOLDER_RE.sub(lambda m: self.mapping.get(m.group(0), m.group(0)), text)


def redact(text: str, personal: Iterable[str] = (), keep: Iterable[str] = ()) -> tuple[str, dict[str, str]]:
    """One-shot form: (redacted text, placeholder -> original)."""
    redactor = Redactor(keep=set(keep))
    return redactor.redact(text, personal), dict(redactor.mapping)


def restore(text: str, mapping: dict[str, str]) -> str:
    return PLACEHOLDER_RE.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)
