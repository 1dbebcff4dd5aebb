"""The shop's knowledge base, loaded one way for every caller: the active KnowledgeArticle rows.

The drafter in the worker, ``oscar_llm_train --support`` and ``oscar_llm_eval support``
all read the articles here, with their stored vectors (an article whose vector is
missing or from another embedding model is embedded first). There is no other
source: a shop with no active articles gets an empty knowledge base, so its drafts
cite nothing and any policy a model writes fails the checks and goes to a human.

Also the embedding job: an article that changes is re-embedded by a job
(``support.embed_article``), queued by :func:`request_article_embedding`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from .. import jobs
from ..models import Job, KnowledgeArticle
from ..settings import llm_settings
from .kinds import ARTICLE_TARGET, EMBED_JOB
from .knowledge import embed_article
from .types import ArticleFact

EMPTY_SOURCE = "none (the KnowledgeArticle table has no active articles)"


class KnowledgeBase(NamedTuple):
    """The active articles as plain facts, their vectors (one row per article; None when there are none)."""

    articles: list[ArticleFact]
    vectors: np.ndarray | None
    source: str


def active_articles() -> list[KnowledgeArticle]:
    return list(KnowledgeArticle.objects.filter(active=True).order_by("pk"))


def knowledge_key() -> tuple[Any, ...]:
    """Changes whenever an active article is added, removed, edited or re-embedded."""
    return tuple(KnowledgeArticle.objects.filter(active=True).order_by("pk").values_list("pk", "text_hash"))


def load_knowledge_base(embedder: Any) -> KnowledgeBase:
    """The active articles with their vectors, embedding (and storing) the stale ones first.

    A lost embedding job, or a new embedding model, must not leave an article out of retrieval.
    """
    articles = active_articles()
    model_id = getattr(embedder, "model_id", "")
    stale = [a for a in articles if not a.vector_is_fresh or (model_id and a.vector_model != model_id)]
    if stale:
        embed_articles(stale, embedder)
        articles = active_articles()
    if not articles:
        return KnowledgeBase([], None, EMPTY_SOURCE)
    vectors = np.array([a.vector for a in articles], dtype="float32")
    return KnowledgeBase(
        [article_fact(a) for a in articles], vectors, f"KnowledgeArticle ({len(articles)} active rows)"
    )


def article_fact(article: KnowledgeArticle) -> ArticleFact:
    return ArticleFact(id=article.pk, title=article.title, body=article.body, tags=tuple(article.tag_list))


# --- embedding ------------------------------------------------------------------------------------


def save_article(article: KnowledgeArticle) -> KnowledgeArticle:
    """Save an article and, when its text changed, queue the job that refreshes its embedding."""
    article.save()
    request_article_embedding(article)
    return article


def request_article_embedding(article: KnowledgeArticle, *, send: bool = True) -> Job | None:
    if article.vector_is_fresh:
        return None
    # The save time is part of the key: text edited back to an earlier version needs a new job.
    input_hash = hashlib.sha256(f"{article.content_hash()}:{article.updated_at}".encode()).hexdigest()
    job, _created = jobs.request(
        EMBED_JOB,
        target_model=ARTICLE_TARGET,
        target_id=article.pk,
        key=jobs.JobKey(input_hash, "embed-v1", str(llm_settings.EMBEDDING_MODEL or "all-MiniLM-L6-v2")),
        send=send,
    )
    return job


def embed_articles(articles: Iterable[KnowledgeArticle], embedder: Any = None) -> int:
    """Store fresh vectors for the given articles (worker side: loads the embedding model)."""
    from ..llm.registry import get_embedder

    embedder = embedder or get_embedder()
    count = 0
    for article in articles:
        digest = article.content_hash()
        vector = embed_article(article_fact(article), embedder)
        KnowledgeArticle.objects.filter(pk=article.pk).update(
            vector=[float(v) for v in vector], vector_model=getattr(embedder, "model_id", ""), text_hash=digest
        )
        count += 1
    return count


def run_embedding_jobs(job_list: list[Job]) -> None:
    articles = KnowledgeArticle.objects.in_bulk([j.target_id for j in job_list])
    for job in job_list:
        article = articles.get(job.target_id)
        if article is None:
            jobs.complete(job, {"skipped": "article deleted"})
            continue
        embed_articles([article])
        jobs.complete(job, {"article_id": article.pk})
