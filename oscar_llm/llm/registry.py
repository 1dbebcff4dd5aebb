"""One model load per worker process."""

from __future__ import annotations

import threading
from typing import Any

from ..settings import llm_settings
from .base import Embedder, ModelUnavailable, TextGenerator

_lock = threading.Lock()
_generators: dict[tuple[Any, ...], TextGenerator] = {}
_embedders: dict[tuple[Any, ...], Embedder] = {}


def get_generator() -> TextGenerator:
    """The configured generator, loaded once per process (raises ModelUnavailable)."""
    cls = llm_settings.GENERATOR
    key = (cls, llm_settings.model_path, repr(llm_settings.OPENAI))
    with _lock:
        if key not in _generators:
            try:
                _generators[key] = cls.from_settings(llm_settings)
            except ModelUnavailable:
                raise
            except Exception as exc:  # a broken model directory, a bad config...
                raise ModelUnavailable(f"Could not load the text model {llm_settings.model_path!r}: {exc}") from exc
        return _generators[key]


def get_embedder() -> Embedder:
    cls = llm_settings.EMBEDDER
    key = (cls, llm_settings.EMBEDDING_MODEL)
    with _lock:
        if key not in _embedders:
            _embedders[key] = cls.from_settings(llm_settings)
        return _embedders[key]


def configured_model_id() -> str:
    """The id jobs are keyed by, known without loading the model."""
    cls = llm_settings.GENERATOR
    describe = getattr(cls, "describe_settings", None)
    if describe:
        return describe(llm_settings)
    return str(llm_settings.model_path)


def clear() -> None:
    with _lock:
        _generators.clear()
        _embedders.clear()
