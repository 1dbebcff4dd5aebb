"""The recommendation settings (``OSCAR_LLM["RECOMMENDATIONS"]``) and where the engine is saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from ..settings import llm_settings

# List kinds in RecommendationList (see its docstring).
SIMILAR = "similar"
TOGETHER = "together"
USER = "user"
VISITOR = "visitor"
CATEGORY = "category"
TRENDING = "trending"
POPULAR = "popular"
GLOBAL_KEY = "all"


def rec_settings() -> dict[str, Any]:
    return llm_settings.RECOMMENDATIONS


def setting(name: str) -> Any:
    return rec_settings()[name]


def engine_dir() -> Path:
    """Where workers save the fitted engine: never under MEDIA_ROOT, which the web server serves."""
    configured = setting("ENGINE_DIR")
    if configured:
        return Path(configured)
    base = Path(getattr(settings, "VAR_DIR", Path(getattr(settings, "BASE_DIR", Path.cwd())) / "var"))
    return base / "recommender"
