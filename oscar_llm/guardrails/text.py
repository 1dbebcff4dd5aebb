"""Checks that judge any text on its own: length, repeated words, banned words, numbers.

Each returns the problems it finds as messages (an empty list when there are none); the
feature that calls it decides what a problem is called and what it is compared with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
REPEAT_RE = re.compile(r"\b(\w+)(?:\W+\1\b){2,}", re.IGNORECASE)

_NORM_SUBS = [
    (re.compile(r"['’]s\b"), ""),
    (re.compile(r"[^\w\s&]+"), " "),
    (re.compile(r"_"), " "),
    # "T-shirt", "T shirt" and "Tshirts" are written every which way; one spelling makes them one word.
    (re.compile(r"\bt\s+shirts?\b"), "tshirt"),
    (re.compile(r"\s+"), " "),
]


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, so phrases compare whatever punctuation surrounds them."""
    text = text.lower()
    for pattern, repl in _NORM_SUBS:
        text = pattern.sub(repl, text)
    return text.strip()


def number_value(raw: str) -> Decimal | None:
    """``raw`` (a match of ``NUMBER_RE``) as a number, so "1,200" and "1200.0" are the same number."""
    try:
        return Decimal(raw.replace(",", "")).normalize()
    except InvalidOperation:
        return None


def unknown_numbers(text: str, known: str) -> list[str]:
    """The numbers ``text`` states, as written, that do not appear in ``known``."""
    allowed = {value for raw in NUMBER_RE.findall(known) if (value := number_value(raw)) is not None}
    unknown = []
    for raw in NUMBER_RE.findall(text):
        value = number_value(raw)
        if value is not None and value not in allowed:
            unknown.append(raw)
    return unknown


def length_problems(text: str, *, min_length: int, max_length: int) -> list[str]:
    problems = []
    if len(text) < min_length:
        problems.append(f"Too short ({len(text)} characters, minimum {min_length}).")
    if len(text) > max_length:
        problems.append(f"Too long ({len(text)} characters, maximum {max_length}).")
    return problems


def repetition_problems(text: str) -> list[str]:
    """Models stuck in a loop write the same word again and again; people rarely do."""
    return ["Repeats the same word three times or more."] if REPEAT_RE.search(text) else []


def banned_word_problems(text: str, banned_words: Iterable[str]) -> list[str]:
    """Whole-word matches only, so banning "cheap" leaves "cheaper" alone."""
    lowered = f" {normalise(text)} "
    return [
        f"Contains the banned word '{word}'."
        for word in banned_words
        if normalise(word) and f" {normalise(word)} " in lowered
    ]
