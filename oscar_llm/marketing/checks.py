"""Checks a campaign email passes before staff can approve it (no Django, so the evaluation runs them as is).

Every price, percentage and date the email states must be one of its facts; no colour, gender or
article type of the catalogue may contradict the featured product's; spam-trigger and banned
words are refused; the subject line is at most 60 characters; the text must read as written
(repeated fragments, doubled words, unfinished sentences: ``guardrails.fluency.fluency_problems`` plus
a sentence that stops without its full stop); the HTML body must come through the allow-list
unchanged. Each check returns ``{"check", "message"}`` reasons, as product copy's do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..catalogue import Vocabulary, article_names
from ..guardrails.fluency import fluency_problems
from ..guardrails.html import plain_text, sanitize_html
from ..guardrails.language import language_problem
from ..guardrails.text import (
    COMMON_WORDS,
    NUMBER_RE,
    banned_word_problems,
    is_known_word,
    name_like_words,
    normalise,
    number_value,
    repetition_problems,
)

SUBJECT_MAX_LENGTH = 60
PREHEADER_MAX_LENGTH = 100
HEADLINE_MAX_LENGTH = 80
# Tags an email body may carry; links are added by the template around the call to action, never by the copy.
EMAIL_TAGS = {"p", "br", "strong", "em", "ul", "li"}

# Words and marks mail filters and readers take for spam.
SPAM_TRIGGERS = (
    "act now",
    "click here",
    "buy now",
    "order now",
    "100% free",
    "risk free",
    "risk-free",
    "guarantee",
    "guaranteed",
    "winner",
    "you have been selected",
    "cash",
    "cheap",
    "lowest price",
    "best price",
    "once in a lifetime",
    "urgent",
    "miracle",
    "no catch",
    "free gift",
    "dear friend",
)
SPAM_MARKS_RE = re.compile(r"[!?]{2,}|\$\$|£££")
CAPS_WORD_RE = re.compile(r"\b[A-Z]{4,}\b")

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTHS_RE = "|".join(MONTHS) + "|" + "|".join(m[:3] for m in MONTHS) + "|sept"
DATE_RE = re.compile(
    rf"\b(?P<iso>\d{{4}}-\d{{1,2}}-\d{{1,2}})\b"
    rf"|\b(?P<dmy>\d{{1,2}}/\d{{1,2}}/\d{{2,4}})\b"
    rf"|\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month>{_MONTHS_RE})\.?(?:,?\s+(?P<year>\d{{4}}))?\b"
    rf"|\b(?P<month2>{_MONTHS_RE})\.?\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<year2>\d{{4}}))?\b",
    re.I,
)
PERCENT_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:%|per\s?cent\b)", re.I)
HALF_PRICE_RE = re.compile(r"\bhalf[\s-]price\b|\bhalf off\b", re.I)
AMOUNT_RE = re.compile(r"([£$€₹])\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:GBP|EUR|USD|INR)\b", re.I)
# Claims the facts of an offer never back.
UNSUPPORTED_CLAIMS_RE = re.compile(
    r"\b(?:free (?:shipping|delivery|returns?)|best[- ]selling|bestseller|award[- ]winning|sold out"
    r"|only \w+ left|last chance|lowest|cheapest|never again|forever)\b",
    re.I,
)
# A sentence that stops without its full stop (", and", "the", "with" ...) at the end of a paragraph.
UNFINISHED_RE = re.compile(r"(?:\b(?:and|or|the|a|an|with|for|to|of|in|on|your|our)|,)\s*$", re.I)


def reason(check: str, message: str) -> dict[str, str]:
    return {"check": check, "message": message}


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def _month_number(word: str) -> int:
    word = word.lower().rstrip(".")
    for i, name in enumerate(MONTHS, start=1):
        if name.startswith(word[:3]):
            return i
    return 0


def stated_dates(text: str, default_year: int) -> list[tuple[str, date | None]]:
    """(as written, the date it names or None when it names none) for each date in ``text``."""
    found: list[tuple[str, date | None]] = []
    for match in DATE_RE.finditer(text):
        raw = match.group(0)
        try:
            if match.group("iso"):
                y, m, d = (int(p) for p in match.group("iso").split("-"))
            elif match.group("dmy"):
                d, m, y = (int(p) for p in match.group("dmy").split("/"))
                y = y + 2000 if y < 100 else y
            elif match.group("day"):
                d, m = int(match.group("day")), _month_number(match.group("month"))
                y = int(match.group("year") or default_year)
            else:
                d, m = int(match.group("day2")), _month_number(match.group("month2"))
                y = int(match.group("year2") or default_year)
            found.append((raw, date(y, m, d)))
        except ValueError:
            found.append((raw, None))
    return found


def check_offer_terms(text: str, facts: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every percentage, price and date in ``text`` must be one the facts give; no number from elsewhere."""
    reasons = []
    offer = facts.get("offer") or {}
    percent = _decimal(str(offer.get("percent"))) if offer.get("percent") not in (None, "") else None
    spans: list[str] = []
    for match in PERCENT_RE.finditer(text):
        raw = match.group(1)
        spans.append(match.group(0))
        value = _decimal(raw)
        if percent is None:
            reasons.append(reason("discount", f"states a discount of {raw}% but the offer gives no percentage"))
        elif value != percent:
            reasons.append(reason("discount", f"states {raw}% off but the offer gives {offer.get('percent')}%"))
    if HALF_PRICE_RE.search(text) and percent != Decimal(50):
        reasons.append(reason("discount", "promises half price but the offer does not give 50%"))

    prices = {_decimal(str(v)) for v in (facts.get("prices") or {}).values() if v not in (None, "")}
    for match in AMOUNT_RE.finditer(text):
        spans.append(match.group(0))
        value = _decimal(match.group(2) or match.group(3))
        if value not in prices:
            reasons.append(reason("price", f"states the price {match.group(0).strip()}, not one of the facts"))

    fact_dates = {date.fromisoformat(str(d)) for d in (facts.get("dates") or {}).values() if d}
    default_year = min(fact_dates).year if fact_dates else date.today().year
    for raw, named in stated_dates(text, default_year):
        spans.append(raw)
        if named is None or named not in fact_dates:
            reasons.append(reason("date", f"states the date '{raw}', not one of the offer's dates"))

    # Any other number (a year, a quantity, a second price) must be in the facts as well; each of the
    # above is judged once, by its own check.
    known = {number_value(raw) for raw in NUMBER_RE.findall(facts_numbers_text(facts))}
    rest = text
    for raw in spans:
        rest = rest.replace(raw, " ")
    for raw in NUMBER_RE.findall(rest):
        if number_value(raw) not in known:
            reasons.append(reason("numbers", f"states the number {raw}, not in the facts"))
    return reasons


def facts_numbers_text(facts: Mapping[str, Any]) -> str:
    """Every number the facts hold, as text (prices, the percentage, the dates, the product's own title)."""
    parts = [str(v) for v in (facts.get("prices") or {}).values()]
    offer = facts.get("offer") or {}
    parts.append(str(offer.get("percent") or ""))
    parts += [str(v) for v in (offer.get("conditions") or {}).values()]
    for value in (facts.get("dates") or {}).values():
        if value:
            d = date.fromisoformat(str(value))
            parts += [str(d.day), str(d.month), str(d.year)]
    product = facts.get("product") or {}
    parts.append(str(product.get("title") or ""))
    parts += [str(v) for v in (product.get("attributes") or {}).values()]
    return " ".join(parts)


def _compatible(stated: str, own: str) -> bool:
    if not own:
        return False
    stated_words, own_words = set(normalise(stated).split()), set(normalise(own).split())
    # Vague, not false: "Blue" for "Navy Blue".
    return stated_words <= own_words or normalise(stated) == normalise(own)


def check_attributes(
    text: str,
    facts: Mapping[str, Any],
    vocabulary: Vocabulary,
    attributes_checked: tuple[str, ...] = ("colour", "gender", "article_type"),
) -> list[dict[str, str]]:
    """A colour, gender or article type (or, for a product's name, brand) of the catalogue not the product's.

    Brands are checked in names only: some brands are everyday words ("Being Human", "Basics") that
    the patterns' sentences use.
    """
    product = facts.get("product") or {}
    attributes = product.get("attributes") or {}
    tokens = normalise(plain_text(text)).split()
    # The product's own name and brand are facts; their words are no claim about another attribute.
    masked: set[int] = set()
    for phrase in (product.get("title") or "", attributes.get("brand") or ""):
        words = normalise(phrase).split()
        n = len(words)
        for i in range(len(tokens) - n + 1):
            if n and tokens[i : i + n] == words:
                masked |= set(range(i, i + n))
    reasons = []
    own_types = article_names(attributes.get("article_type") or "") if attributes.get("article_type") else frozenset()
    for attribute in attributes_checked:
        own = str(attributes.get(attribute) or "")
        if attribute == "brand" and not own:
            continue
        for stated, start, end in vocabulary.find(attribute, tokens, masked):
            if _compatible(stated, own):
                continue
            if attribute == "article_type" and " ".join(tokens[start:end]) in own_types:
                continue
            label = attribute.replace("_", " ")
            reasons.append(reason(attribute, f"states the {label} '{stated}', the product's is '{own or 'not given'}'"))
    return reasons


def check_spam(
    text: str, banned_words: Iterable[str] = (), allowed_caps: Iterable[str] = (), facts_text: str = ""
) -> list[dict[str, str]]:
    """Banned words, spam triggers (except where the product's own name or type says them: "Free Gifts"), shouting."""
    reasons = [reason("banned_words", m) for m in banned_word_problems(text, banned_words)]
    lowered = f" {normalise(text)} "
    own = f" {normalise(facts_text)} "
    for phrase in SPAM_TRIGGERS:
        if f" {normalise(phrase)} " in lowered and f" {normalise(phrase)} " not in own:
            reasons.append(reason("spam", f"uses the spam trigger '{phrase}'"))
    if SPAM_MARKS_RE.search(text):
        reasons.append(reason("spam", "uses repeated '!' or '?' or currency signs"))
    allowed = {w.upper() for phrase in allowed_caps for w in re.findall(r"\w+", phrase)}
    shouting = [w for w in CAPS_WORD_RE.findall(text) if w not in allowed]
    if shouting:
        reasons.append(reason("spam", f"shouts in capitals ('{shouting[0]}')"))
    for match in UNSUPPORTED_CLAIMS_RE.finditer(text):
        reasons.append(reason("claims", f"claims '{match.group(0)}', which the facts do not support"))
    return reasons


def check_fluency(text: str) -> list[dict[str, str]]:
    reasons = [reason("fluency", m) for m in fluency_problems(text)]
    reasons += [reason("fluency", m) for m in repetition_problems(text)]
    return reasons


GREETING_RE = re.compile(r"^(?:hello|hi|dear)\b[^.!?]{0,60},$", re.I)


def check_paragraphs(paragraphs: Iterable[str]) -> list[dict[str, str]]:
    """Every paragraph of a body ends its last sentence (a greeting ends with its comma)."""
    reasons = []
    for paragraph in paragraphs:
        plain = plain_text(paragraph).strip()
        if plain and GREETING_RE.match(plain):
            continue
        if plain and (UNFINISHED_RE.search(plain) or plain[-1] not in ".!?)"):
            reasons.append(reason("fluency", f"a sentence is left unfinished ('{plain[-40:]}')"))
    return reasons


def check_html(html_body: str) -> list[dict[str, str]]:
    """The body must come through the allow-list unchanged (no links, scripts, styles or attributes of its own)."""
    cleaned = sanitize_html(html_body, allow_tags=EMAIL_TAGS)
    if cleaned != html_body:
        return [reason("html", "the body carries markup outside the allow-list")]
    return []


# Words that say whom a product is for without being a gender of the catalogue ("Miss's T-shirt").
GENDER_HINTS = {"miss": "Women", "ladies": "Women", "lady": "Women", "gents": "Men", "gentleman": "Men"}


def check_name(name: str, facts: Mapping[str, Any], vocabulary: Vocabulary, max_length: int) -> list[dict[str, str]]:
    """A product name the model wrote: short, names what the product is, no made-up word, no contradiction."""
    product = facts.get("product") or {}
    attributes = product.get("attributes") or {}
    reasons = []
    clean = name.strip()
    if not clean or len(clean) < 5:
        return [reason("length", "no product name")]
    if len(clean) > max_length:
        reasons.append(reason("length", f"the product name is {len(clean)} characters, at most {max_length}"))
    own_types = article_names(attributes.get("article_type") or "")
    padded = f" {normalise(clean)} "
    if own_types and not any(f" {form} " in padded for form in own_types):
        reasons.append(reason("article_type", "the product name does not say what the product is"))
    known = vocabulary.words | COMMON_WORDS
    for word in name_like_words(clean, every_word=True):
        if not is_known_word(word, known):
            reasons.append(reason("invented_name", f"'{word}' is neither in the facts nor the catalogue"))
    reasons += check_attributes(clean, facts, vocabulary, ("colour", "gender", "article_type", "brand"))
    reasons += check_offer_terms(clean, facts)
    reasons += check_fluency(clean)
    words = normalise(clean).split()
    # "Nike Men's Men's Shoes": the apostrophe hides the doubled word from the fluency check.
    for first, second in zip(words, words[1:], strict=False):
        if first == second:
            reasons.append(reason("fluency", f"'{first}' twice in a row"))
            break
    genders = [w for w in words if w in ("men", "women", "boys", "girls", "unisex")]
    if len(genders) > 1:
        reasons.append(reason("fluency", "names whom it is for twice"))
    own_gender = str(attributes.get("gender") or "")
    for word in words:
        hinted = GENDER_HINTS.get(word)
        if hinted and own_gender and hinted.lower() != own_gender.lower():
            reasons.append(reason("gender", f"'{word}' says {hinted}, the product's gender is '{own_gender}'"))
    return reasons


def check_email(
    email: Mapping[str, Any],
    facts: Mapping[str, Any],
    vocabulary: Vocabulary,
    *,
    banned_words: Iterable[str] = (),
    language: str = "en",
) -> list[dict[str, str]]:
    """Every check on a whole email (subject, preheader, headline, body as HTML and text, call to action)."""
    reasons = []
    subject = str(email.get("subject") or "")
    if not subject.strip():
        reasons.append(reason("subject", "no subject line"))
    if len(subject) > SUBJECT_MAX_LENGTH:
        reasons.append(reason("subject", f"subject is {len(subject)} characters, at most {SUBJECT_MAX_LENGTH}"))
    if len(str(email.get("preheader") or "")) > PREHEADER_MAX_LENGTH:
        reasons.append(reason("preheader", f"preheader is longer than {PREHEADER_MAX_LENGTH} characters"))
    if len(str(email.get("headline") or "")) > HEADLINE_MAX_LENGTH:
        reasons.append(reason("headline", f"headline is longer than {HEADLINE_MAX_LENGTH} characters"))
    html_body = str(email.get("body_html") or "")
    reasons += check_html(html_body)
    parts = [subject, str(email.get("preheader") or ""), str(email.get("headline") or ""), str(email.get("cta") or "")]
    text = "\n".join([*parts, plain_text(html_body)])
    reasons += check_offer_terms(text, facts)
    reasons += check_attributes(text, facts, vocabulary)
    product = facts.get("product") or {}
    caps = [str(product.get("title") or ""), str((product.get("attributes") or {}).get("brand") or "")]
    own = " ".join([*caps, *(str(v) for v in (product.get("attributes") or {}).values())])
    reasons += check_spam(text, banned_words, allowed_caps=caps, facts_text=own)
    for part in [*parts, *re.findall(r"<p>(.*?)</p>", html_body, re.S)]:
        reasons += check_fluency(plain_text(part))
    reasons += check_paragraphs(re.findall(r"<p>(.*?)</p>", html_body, re.S))
    problem = language_problem(plain_text(html_body), language)
    if problem:
        reasons.append(reason("language", problem))
    # One reason per message: the same problem found in two parts is one problem.
    unique = []
    for r in reasons:
        if r not in unique:
            unique.append(r)
    return unique
