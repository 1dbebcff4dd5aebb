"""HTML sanitising with an allow-list (nh3)."""

from __future__ import annotations

import html
import re

import nh3

# Descriptions may carry light formatting; everything else is plain text.
DESCRIPTION_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "b", "i"}
_TAG_RE = re.compile(r"<[^>]*>")
_WS_RE = re.compile(r"\s+")


def sanitize_html(text: str, *, allow_tags: set[str] | None = None) -> str:
    """Keep only allowed tags (no attributes, no scripts, no styles, no event handlers)."""
    tags = DESCRIPTION_TAGS if allow_tags is None else allow_tags
    return nh3.clean(text, tags=tags, attributes={}, strip_comments=True, clean_content_tags={"script", "style"})


def strip_tags(text: str) -> str:
    """Plain text: every tag removed (script and style content too), entities decoded."""
    cleaned = nh3.clean(text, tags=set(), attributes={}, clean_content_tags={"script", "style"})
    return _WS_RE.sub(" ", html.unescape(cleaned)).strip()


def sanitize_for_kind(text: str, kind: str) -> str:
    if kind == "description":
        return sanitize_html(text).strip()
    return strip_tags(text)


def plain_text(text: str) -> str:
    """Text content of sanitised HTML, for the checks."""
    return _WS_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", text))).strip()
