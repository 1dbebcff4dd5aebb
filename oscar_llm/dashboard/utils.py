"""Presentation helpers of the review dashboard (no ORM writes, no model)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# Words and HTML tags are the units of the diff (each with the whitespace before it), so
# a changed word is marked as a whole and markup changes in descriptions stay visible.
_TOKENS = re.compile(r"(\s*)(<[^>]*>|[^\s<]+|<)")


def tokenize(text: str) -> list[tuple[str, str]]:
    """``[(whitespace before, word), ...]``; trailing whitespace is dropped."""
    return _TOKENS.findall(text or "")


def _join(tokens: list[tuple[str, str]]) -> str:
    return "".join(space + word for space, word in tokens)


def word_diff(old: str, new: str) -> SafeString:
    """An HTML word-level diff of two texts: removed words in ``<del>``, added ones in ``<ins>``.

    Both texts are escaped before any markup is added, so model output (or HTML
    in a description) is shown as text, never rendered. Words are compared
    without their spacing; the new text's spacing is kept.
    """
    a, b = tokenize(old), tokenize(new)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(None, [w for _s, w in a], [w for _s, w in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(_join(b[j1:j2])))
        elif op == "delete":
            parts.append(f"{escape(a[i1][0])}<del>{escape(_join(a[i1:i2]).lstrip())}</del>")
        elif op == "insert":
            parts.append(f"{escape(b[j1][0])}<ins>{escape(_join(b[j1:j2]).lstrip())}</ins>")
        else:  # replace: the removed words, then the new ones right after them
            parts.append(
                f"{escape(a[i1][0])}<del>{escape(_join(a[i1:i2]).lstrip())}</del>"
                f"<ins>{escape(_join(b[j1:j2]).lstrip())}</ins>"
            )
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def fact_rows(facts: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts a draft was written from, as (label, value) rows for a table."""
    rows: list[tuple[str, str]] = []
    if facts.get("title"):
        rows.append((_("Title"), str(facts["title"])))
    if facts.get("product_class"):
        rows.append((_("Product type"), str(facts["product_class"])))
    if facts.get("category"):
        rows.append((_("Category"), str(facts["category"])))
    if facts.get("price"):
        rows.append((_("Price (excl. tax)"), f"{facts['price']} {facts.get('currency') or ''}".strip()))
    if facts.get("in_stock") is not None:
        rows.append((_("In stock"), _("Yes") if facts["in_stock"] else _("No")))
    for code, value in sorted((facts.get("attributes") or {}).items()):
        if value not in (None, ""):
            rows.append((_label(code), str(value)))
    return rows
