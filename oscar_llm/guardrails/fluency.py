"""Broken language a person would never send: the fluency check every customer-facing text passes.

Moved here from the support feature so that every feature (support replies, product answers) judges
fluency the same way.
"""

from __future__ import annotations

import re

SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]?")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_RE.findall(text) if s.strip()]


# A run of this many words said twice is a loop (3% of the Bitext replies repeat a 6-gram, 11% a 5-gram).
REPEAT_NGRAM = 6


def repeated_ngram(text: str, n: int = REPEAT_NGRAM) -> bool:
    words = re.findall(r"[a-z0-9']+", text.lower())
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - n + 1):
        gram = tuple(words[i : i + n])
        if gram in seen:
            return True
        seen.add(gram)
    return False


# Broken language a person would never send (the fluency check):
# "I have're", "the most up and I have're here" - a contraction hung on a word that takes none;
CONTRACTION_RE = re.compile(
    r"\b(?!(?:you|we|they|who|what|there|here|where|how|why|that|these|those|which|when)\b)[a-z]+'re\b", re.I
)
# "1. 2." - list items with nothing in them (on one line, or a number alone on its line);
EMPTY_ITEM_RE = re.compile(r"(?m)(?:^|\s)\d{1,2}[.)]\s+\d{1,2}[.)](?=\s|$)|^\s*\d{1,2}[.)]\s*$")
# "please follow these steps ..." - a sentence that trails off;
TRAILING_RE = re.compile(r"\w\s*(?:\.\.\.|…)(?=\s|$)")
# "Here's what you need to do:" with nothing after it.
DANGLING_INTRO_RE = re.compile(r":\s*$")
# "the the", "you you" - a word said twice.
DOUBLED_WORD_RE = re.compile(r"\b([a-z]{2,})\s+\1\b", re.I)
# 'Enter "" as the name' - quotation marks around nothing (a value that was taken out).
EMPTY_QUOTES_RE = re.compile(r"[\"“][ \t]*[\"”]")
# "the your area", "a your account" - two determiners in a row (a value taken out of its phrase).
DOUBLE_DETERMINER_RE = re.compile(r"\b(?i:the|an?|your|our)\s+(?:the|an?|your|our)\b")
# The same 4 words twice in one sentence ("here to help you ... here to help you").
SENTENCE_REPEAT_NGRAM = 4


def fluency_problems(text: str) -> list[str]:
    """What reads as broken language in ``text`` (empty when it reads as written by a person)."""
    problems = []
    for match in CONTRACTION_RE.finditer(text):
        problems.append(f"broken word '{match.group(0)}'")
    if EMPTY_ITEM_RE.search(text):
        problems.append("empty list items")
    if TRAILING_RE.search(text):
        problems.append("a sentence trails off ('...')")
    if DANGLING_INTRO_RE.search(text):
        problems.append("a colon introduces nothing")
    for match in DOUBLE_DETERMINER_RE.finditer(text):
        problems.append(f"'{match.group(0)}' (two determiners)")
    if EMPTY_QUOTES_RE.search(text):
        problems.append("quotation marks around nothing")
    for match in DOUBLED_WORD_RE.finditer(text):
        if match.group(1).lower() not in ("that", "had", "is"):
            problems.append(f"'{match.group(0)}' repeats a word")
    for sentence in _sentences(text):
        if repeated_ngram(sentence, SENTENCE_REPEAT_NGRAM):
            problems.append(f"a fragment repeats within one sentence ('{sentence.strip()[:60]}')")
            break
    return problems
