"""Knowledge articles, searchable by meaning.

Each article is embedded once as its title plus the start of its body (the
Django side stores the vector per article and refreshes it when the article
changes); a ticket's text is embedded at drafting time and articles are ranked
by cosine similarity, with a boost for articles tagged with the ticket's
intent (the Bitext intent names double as tags in the demo knowledge base).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .types import ArticleFact

# Characters of the body that go into an article's vector: MiniLM reads 256
# word pieces at most, and an article's first paragraph says what it is about.
ARTICLE_EMBED_CHARS = 600
# Added to the cosine similarity of an article tagged with the predicted intent.
INTENT_TAG_BOOST = 0.25


def article_text(article: ArticleFact) -> str:
    return f"{article.title}. {article.body[:ARTICLE_EMBED_CHARS]}"


def embed_article(article: ArticleFact, embedder: Any) -> np.ndarray:
    """The vector stored for ``article`` (unit length, float32)."""
    return np.asarray(embedder.embed([article_text(article)])[0], dtype=np.float32)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class ArticleIndex:
    def __init__(self, articles: Sequence[ArticleFact], vectors: np.ndarray | None = None, embedder: Any = None):
        self.articles = list(articles)
        self._embedder = embedder
        if vectors is None and self.articles:
            vectors = np.asarray(self.embedder.embed([article_text(a) for a in self.articles]), dtype=np.float32)
        if vectors is None:
            vectors = np.zeros((0, 1), dtype=np.float32)
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(vectors) != len(self.articles):
            raise ValueError(f"{len(self.articles)} articles but {len(vectors)} vectors.")
        self.vectors = _normalise(vectors) if len(vectors) else vectors

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from ..llm.registry import get_embedder  # Django settings: only when no embedder was given

            self._embedder = get_embedder()
        return self._embedder

    def __len__(self) -> int:
        return len(self.articles)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embedder.embed([text or ""])[0], dtype=np.float32)

    def search(
        self, text: str, k: int = 3, *, intent: str | None = None, vector: np.ndarray | None = None
    ) -> list[tuple[ArticleFact, float]]:
        """The ``k`` best articles for ``text`` with their scores (cosine, plus the intent-tag boost)."""
        if not self.articles or k <= 0:
            return []
        query = self.embed_query(text) if vector is None else np.asarray(vector, dtype=np.float32)
        scores = self.vectors @ query
        if intent:
            tagged = np.array([intent in a.tags for a in self.articles])
            scores = scores + INTENT_TAG_BOOST * tagged
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.articles[i], float(scores[i])) for i in order]

    def by_tag(self, tag: str) -> list[ArticleFact]:
        return [a for a in self.articles if tag in a.tags]
