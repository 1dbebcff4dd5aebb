"""Is a text in the language it should be in?

Short texts (titles, mostly brand and attribute words) cannot be identified
reliably, so they are only checked for script; longer texts go through
langdetect with a fixed seed, so the answer is deterministic.
"""

from __future__ import annotations

import unicodedata

LATIN_LANGUAGES = {"en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "no", "fi", "pl", "cs"}
MIN_WORDS_FOR_DETECTION = 12


def _latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin / len(letters)


def language_problem(text: str, language: str) -> str | None:
    """A message when ``text`` is not in ``language``, else None."""
    if language in LATIN_LANGUAGES and _latin_share(text) < 0.9:
        return f"Not written in the Latin script expected for '{language}'."
    if len(text.split()) < MIN_WORDS_FOR_DETECTION:
        return None
    try:
        from langdetect import DetectorFactory, detect_langs
    except ImportError:  # langdetect is a worker extra; without it only the script is checked
        return None
    DetectorFactory.seed = 0
    try:
        guesses = detect_langs(text)
    except Exception:
        return None
    best = guesses[0] if guesses else None
    if best and best.lang != language and best.prob > 0.9:
        return f"Looks like '{best.lang}' (p={best.prob:.2f}), expected '{language}'."
    return None
