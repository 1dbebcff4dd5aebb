"""Personal data -> placeholders before text goes to a model outside this process, and back again.

What is replaced (docs/architecture.md, "Personal data"):

* **every known value of the customer** (:class:`CustomerIdentity`): full name and each part of
  it, e-mail addresses (and their local part), username, address lines (also without the house
  number, with street words abbreviated or not), city, postcode (with or without its space, any
  case) and phone numbers (any spacing, with or without the country code);
* **by pattern**, whoever they belong to: e-mail addresses, card numbers (Luhn-checked), IBANs
  (checksum-checked), UK National Insurance numbers, SSN-like numbers, numbers named as a passport,
  licence, national ID, NHS or tax number, dates of birth (a date after "born", "DOB", "date of
  birth", "birthday", or any full date more than ten years old), phone numbers, street addresses
  and postcodes.

Placeholders such as ``[EMAIL_1]`` are numbered per :class:`Redactor`, so the same value always
gets the same placeholder within one request made of several texts, and the model's reply about
``[NAME_1]`` is restored for staff. Patterns cannot find everything: a name the shop does not know
(a neighbour's, a spouse's) that no pattern describes does leave the process. The corpus in
``tests/core/redaction_corpus.py`` measures what the known values and patterns catch
(``bench/bench_redaction.py``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date

EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
# IBAN: country code, 2 check digits, 11-30 alphanumerics, optionally in groups of four.
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
# 13-19 digits with optional single spaces or dashes between them.
CARD_RE = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
# International or national phone numbers: +44 20 7946 0000, (555) 123-4567, 07700 900123.
PHONE_RE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,6}(?:[\s.-]\d{2,6}){1,4}(?![\w])")
# A phone number written without spaces: +447700900123, 07700900123, 0044...
PHONE_RUN_RE = re.compile(r"(?<![\w+])(?:\+\d{10,14}|0\d{9,12})(?!\w)")
# A house number, a street name and a street word: "221B Baker Street", "12 rue de la Paix".
STREET_RE = re.compile(
    r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'-]*\s+){0,4}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Square|Sq|Boulevard|Blvd|Close|Terrace"
    r"|Crescent|Cres|Gardens|Gdns|Grove|Mews|Row|Walk|Hill|Parade)\b\.?"
    r"|\b(?:rue|via|calle|avenida)\s+(?:[\w'-]+\s+){0,4}\d{0,4}",
    re.IGNORECASE,
)
# UK postcodes (the demo shop is in the UK), any case, and US ZIP+4.
POSTCODE_RE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b|\b\d{5}-\d{4}\b", re.IGNORECASE)
# UK National Insurance number: two letters, six digits, A-D ("QQ 12 34 56 C").
NINO_RE = re.compile(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.IGNORECASE)
# US social security number and its look-alikes: 078-05-1120, 078 05 1120.
SSN_RE = re.compile(r"(?<![\d-])\d{3}([- ])\d{2}\1\d{4}(?![\d-])")
# A number named as an identity document: "passport no. 533380006", "driving licence: MORGA753116SM9IJ".
ID_CONTEXT_RE = re.compile(
    r"(?P<label>(?<!order )(?<!tracking )(?<!ticket )(?<!reference )"
    r"\b(?:passport|driv(?:ing|er'?s)\s+licen[cs]e|licen[cs]e|national\s+(?:id|identity|insurance)"
    r"|identity\s+card|id\s+card|id|nhs|tax\s+(?:id|code|number)|tin|ssn|social\s+security|nino|ni|dni|nie|nif)"
    r"(?:\s+(?:number|no\.?|num\.?|#|code))?\s*(?:is|was|:|#|-)?\s*)"
    r"(?P<value>[A-Z]{0,6}\d[A-Z0-9]{2,}(?:[ -]?[A-Z0-9]*\d[A-Z0-9]*){0,4})",
    re.IGNORECASE,
)
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = (
    r"(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}"
    r"|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+\d{{2,4}}"
    rf"|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
DATE_RE = re.compile(rf"(?<![\w/.-]){_DATE}(?![\w/-])", re.IGNORECASE)
DOB_RE = re.compile(
    r"(?P<label>\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday)(?:\s+(?:is|was))?\s*[:-]?\s*)"
    rf"(?P<value>{_DATE})",
    re.IGNORECASE,
)
DATE_LIKE_RE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")

KINDS = (
    "EMAIL",
    "CARD",
    "IBAN",
    "PHONE",
    "ADDRESS",
    "POSTCODE",
    "NAME",
    "PERSONAL",
    "USERNAME",
    "CITY",
    "DOB",
    "ID",
)
PLACEHOLDER_RE = re.compile(rf"\[({'|'.join(KINDS)})_(\d+)\]")

# Name parts and towns that are also everyday words ("Will", "May", "Reading") are replaced only
# where they are written with a capital, so "I will wait" keeps its verb.
_EVERYDAY_WORDS_TEXT = """
    will may mark hope joy summer april june august march bill pat dawn ray rich frank jack rose sky amber
    ruby violet lily brook young long short white black brown green gray grey hill wood field bell price
    love day lane bank best hall king page rice miles chase grant guy penny sandy rusty stone rock cliff
    reading bath deal sale street
"""
EVERYDAY_WORDS = frozenset(_EVERYDAY_WORDS_TEXT.split())
# How a street word may be written: the full word or its usual abbreviation.
STREET_WORDS = {
    "street": "st",
    "road": "rd",
    "avenue": "ave",
    "lane": "ln",
    "drive": "dr",
    "close": "cl",
    "crescent": "cres",
    "place": "pl",
    "square": "sq",
    "terrace": "terr",
    "gardens": "gdns",
    "court": "ct",
    "grove": "gr",
    "park": "pk",
    "mount": "mt",
    "boulevard": "blvd",
    "apartment": "apt",
}
_SEP = r"[\s,.'’-]*"
# An address line without its number that says nothing about where ("Flat 4" -> "Flat").
GENERIC_ADDRESS_WORDS = frozenset({"flat", "apartment", "apt", "unit", "suite", "floor", "house", "room"})


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
    compact = raw.replace(" ", "").upper()
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


def _is_old_date(raw: str) -> bool:
    """A full date more than ten years ago: a birth date far more often than an order date."""
    match = re.search(r"(\d{4})", raw)
    if not match:
        return False
    year = int(match.group(1))
    return 1900 <= year <= date.today().year - 10


def _as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    return tuple(dict.fromkeys(v.strip() for v in value if v and v.strip()))


@dataclass(frozen=True)
class CustomerIdentity:
    """Every value the shop knows about one customer, each field a string or several.

    ``CustomerIdentity(names="Jane Doe", emails="jane@example.com", phones=("+44 7700 900123",))``;
    ``oscar_llm.customers.customer_identity(user)`` fills it from a Django user, their address book
    and the addresses of their orders.
    """

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    usernames: tuple[str, ...] = ()
    address_lines: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    postcodes: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    other: tuple[str, ...] = ()  # anything else known to be personal (a company name, a birth date)

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _as_tuple(getattr(self, f.name)))

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def values(self) -> list[str]:
        """Every known value, as given (what must never reach an outside model)."""
        return [v for f in fields(self) for v in getattr(self, f.name)]

    def merged(self, other: CustomerIdentity | None) -> CustomerIdentity:
        if not other:
            return self
        return CustomerIdentity(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


@dataclass(frozen=True)
class _Known:
    kind: str
    pattern: re.Pattern[str]
    length: int  # longest first, so "Jane Doe" wins over "Jane"
    valid: Callable[[str], bool] | None = None


def _letters(value: str) -> str:
    """A regex for ``value``'s letters: accents optional, apostrophes and hyphens optional."""
    out = []
    for ch in value:
        base = unicodedata.normalize("NFKD", ch)[0]
        if ch in "'’":
            out.append(r"['’\s]?")
        elif ch == "ß":
            out.append("(?:ß|ss)")
        elif ch == "-":
            out.append(r"[-\s]?")
        elif ch.isspace():
            out.append(r"\s+")
        elif base != ch and base.isalpha():
            out.append(f"[{re.escape(ch)}{re.escape(base)}]")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _word_pattern(value: str, *, everyday_ok: bool = False) -> re.Pattern[str]:
    """A name part or town: any case, unless it is also an everyday word (then capitalised only)."""
    body = _letters(value)
    if not everyday_ok and value.lower() in EVERYDAY_WORDS:
        cap = _letters(value[:1].upper() + value[1:].lower())
        return re.compile(rf"(?<!\w)(?:{cap}|{_letters(value.upper())})(?!\w)")
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _address_pattern(line: str) -> re.Pattern[str]:
    """An address line however it is spaced, punctuated, cased or abbreviated."""
    tokens = [t for t in re.split(r"[\s,.]+", line) if t]
    parts = []
    for token in tokens:
        lower = token.lower().rstrip(".")
        full = next((w for w, a in STREET_WORDS.items() if lower in (w, a)), None)
        if full:
            parts.append(rf"(?:{full}|{STREET_WORDS[full]}\.?)")
        else:
            parts.append(_letters(token))
    return re.compile(r"(?<!\w)" + _SEP.join(parts) + r"(?!\w)", re.IGNORECASE)


def _postcode_pattern(postcode: str) -> re.Pattern[str]:
    """Spaced anywhere or not at all: "NW1 6XE", "nw16xe", "H91 E2K3"."""
    compact = re.sub(r"\s+", "", postcode)
    body = r"\s?".join(re.escape(c) for c in compact)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _phone_pattern(phone: str) -> re.Pattern[str] | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return None
    # The last seven digits are the subscriber's, however the area and country codes are written
    # ("+49 30 901820", "030 901820"); whatever digits come before them go with the match.
    core = digits[-7:]
    sep = r"[\s().-]{0,2}"
    prefix = r"(?:(?:\+|00)?\d{1,3}" + sep + r")?(?:\(?0\)?" + sep + r")?(?:\d" + sep + r"){0,5}"
    return re.compile(r"(?<![\w+])" + prefix + sep.join(core) + r"(?!\w)")


def _username_pattern(username: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@.+-]){re.escape(username)}(?![\w@+-]|\.\w)", re.IGNORECASE)


def known_patterns(identity: CustomerIdentity) -> list[_Known]:
    """The patterns that find each of ``identity``'s values in a text, longest value first."""
    found: list[_Known] = []

    def add(kind: str, value: str, pattern: re.Pattern[str] | None) -> None:
        if pattern is not None and len(value.strip()) >= 2:
            found.append(_Known(kind, pattern, len(value)))

    for email in identity.emails:
        add("EMAIL", email, re.compile(re.escape(email), re.IGNORECASE))
        local = email.split("@")[0]
        if len(local) >= 4:
            add("EMAIL", local, _username_pattern(local))
    for username in identity.usernames:
        if "@" in username:
            add("EMAIL", username, re.compile(re.escape(username), re.IGNORECASE))
        elif len(username) >= 3:
            add("USERNAME", username, _username_pattern(username))
    for name in identity.names:
        add("NAME", name, _address_pattern(name))  # "Jane  Doe", "JANE DOE"
        parts = [p for p in re.split(r"[\s,]+", name) if len(p) >= 2]
        if len(parts) >= 2:  # "Doe, Jane"
            add("NAME", name, re.compile(_letters(parts[-1]) + r",?\s+" + _letters(parts[0]), re.IGNORECASE))
        for part in parts:
            add("NAME", part, _word_pattern(part))
            for piece in part.split("-"):
                if len(piece) >= 2 and piece != part:
                    add("NAME", piece, _word_pattern(piece))
    for line in identity.address_lines:
        add("ADDRESS", line, _address_pattern(line))
        # Without its house or flat number: "I live on Baker Street".
        rest = re.sub(r"^\d+[A-Za-z]?\b[\s,]*|[\s,]+\d+[A-Za-z]?$", "", line)
        if rest != line and len(rest) >= 4 and rest.lower() not in GENERIC_ADDRESS_WORDS | EVERYDAY_WORDS:
            add("ADDRESS", rest, _address_pattern(rest))
    for city in identity.cities:
        add("CITY", city, _word_pattern(city) if " " not in city else _address_pattern(city))
    for postcode in identity.postcodes:
        add("POSTCODE", postcode, _postcode_pattern(postcode))
    for phone in identity.phones:
        add("PHONE", phone, _phone_pattern(phone))
    for value in identity.other:
        add("PERSONAL", value, _address_pattern(value))
    found.sort(key=lambda k: k.length, reverse=True)
    return found


@dataclass
class Redactor:
    """Replaces personal data with numbered placeholders and remembers how to undo it.

    ``known`` is the customer the text is about (their every known value is replaced).
    ``keep`` lists values that must survive redaction even if they look like a phone or card
    number (the shop's own order numbers and support phone number: the outside model needs them
    and they identify no person on their own).
    """

    keep: set[str] = field(default_factory=set)
    known: CustomerIdentity | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> original
    _reverse: dict[tuple[str, str], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    _patterns: list[_Known] | None = None

    def _placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._reverse:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"[{kind}_{self._counts[kind]}]"
            self._reverse[key] = placeholder
            self.mapping[placeholder] = value
        return self._reverse[key]

    def _kept(self, value: str) -> bool:
        stripped = value.strip()
        return stripped in self.keep or re.sub(r"[\s-]", "", stripped) in self.keep

    def _sub(
        self,
        pattern: re.Pattern[str],
        kind: str,
        text: str,
        valid: Callable[[str], bool] | None = None,
        group: str | int = 0,
    ) -> str:
        def replace(match: re.Match[str]) -> str:
            whole = match.group(0)
            value = match.group(group)
            stripped = value.strip()
            if self._kept(stripped) or (valid is not None and not valid(stripped)):
                return whole
            start = match.start(group) - match.start(0)
            end = start + len(value.rstrip())
            return whole[:start] + self._placeholder(kind, stripped) + whole[end:]

        return pattern.sub(replace, text)

    def _reserve(self, text: str) -> None:
        """Number after placeholders already in ``text`` (a caller redacted it first), never over them."""
        for match in PLACEHOLDER_RE.finditer(text):
            if match.group(0) not in self.mapping:
                kind, number = match.group(1), int(match.group(2))
                self._counts[kind] = max(self._counts.get(kind, 0), number)

    def _known(self, extra: Iterable[str]) -> Iterator[_Known]:
        if self._patterns is None:
            self._patterns = known_patterns(self.known) if self.known else []
        values = sorted({v.strip() for v in extra if v and len(v.strip()) >= 2}, key=len, reverse=True)
        extra_patterns = [
            _Known(
                "NAME" if not any(c.isdigit() for c in v) else "PERSONAL",
                _word_pattern(v) if re.fullmatch(r"[\w'’-]+", v) else _address_pattern(v),
                len(v),
            )
            for v in values
        ]
        yield from sorted(self._patterns + extra_patterns, key=lambda k: k.length, reverse=True)

    def redact(self, text: str, personal: Iterable[str] = ()) -> str:
        """``text`` with personal data replaced; ``personal`` adds known values to ``known``'s."""
        if not text:
            return text
        self._reserve(text)
        # Structured data first (a name inside an e-mail address goes with the address).
        text = self._sub(EMAIL_RE, "EMAIL", text)
        text = self._sub(IBAN_RE, "IBAN", text, _iban_valid)
        text = self._sub(CARD_RE, "CARD", text, lambda v: luhn_valid(re.sub(r"[\s-]", "", v)))
        for known in self._known(personal):
            text = self._sub(known.pattern, known.kind, text)
        text = self._sub(NINO_RE, "ID", text)
        text = self._sub(SSN_RE, "ID", text)
        text = self._sub(ID_CONTEXT_RE, "ID", text, group="value")
        text = self._sub(DOB_RE, "DOB", text, group="value")
        text = self._sub(DATE_RE, "DOB", text, _is_old_date)
        text = self._sub(STREET_RE, "ADDRESS", text)
        text = self._sub(POSTCODE_RE, "POSTCODE", text)
        text = self._sub(PHONE_RUN_RE, "PHONE", text)
        text = self._sub(PHONE_RE, "PHONE", text, _looks_like_phone)
        return text

    def restore(self, text: str) -> str:
        """Put the original values back (placeholders this redactor did not make are left as they are)."""
        return PLACEHOLDER_RE.sub(lambda m: self.mapping.get(m.group(0), m.group(0)), text)


def redact(
    text: str,
    personal: Iterable[str] = (),
    keep: Iterable[str] = (),
    *,
    known: CustomerIdentity | None = None,
) -> tuple[str, dict[str, str]]:
    """One-shot form: (redacted text, placeholder -> original).

    ``redact(message, known=CustomerIdentity(names="Jane Doe", emails="jane@example.com"))``.
    """
    redactor = Redactor(keep=set(keep), known=known)
    return redactor.redact(text, personal), dict(redactor.mapping)


def restore(text: str, mapping: dict[str, str]) -> str:
    return PLACEHOLDER_RE.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)
