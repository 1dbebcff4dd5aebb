"""Signals -> support work. Thin; connected in ``wiring.ready()``."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction


def knowledge_article_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """An article changed (admin, dashboard, demo data): refresh its embedding through a job."""
    if raw or instance.vector_is_fresh:
        return
    from .knowledge_base import request_article_embedding

    transaction.on_commit(partial(request_article_embedding, instance))
