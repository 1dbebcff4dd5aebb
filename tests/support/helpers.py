"""Shared helpers for the support tests: the seed tickets, the bundled embedder and the tiny support model.

Every behaviour test runs on the project's own seed tickets (:mod:`oscar_llm.demo.support_seed`), so
the suite needs nothing but the repository. The tiny model is trained through the production code
path (``support.training.support_pairs`` -> ``llm.training.train_causal_lm``, the triage beside it),
once per test process, and serves every support test: the drafting fixtures, the evaluation and the
injection tests. Only the tests marked ``data`` read the public Bitext file (``bitext_rows``).
"""

from __future__ import annotations

import atexit
import csv
import functools
import shutil
import tempfile
from pathlib import Path

from tests.conftest import DATA_DIR

BITEXT = DATA_DIR / "support" / "bitext_tickets_public.csv"


def bitext_rows() -> list[dict[str, str]]:
    """The public Bitext tickets: for the tests marked ``data`` only."""
    with open(BITEXT, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def seed_rows() -> list[dict[str, str]]:
    """The demo shop's seed tickets (27 intents, replies grounded in the demo policies), as fresh dicts."""
    return [dict(row) for row in _seed_rows()]


@functools.lru_cache(maxsize=1)
def _seed_rows() -> tuple[dict[str, str], ...]:
    from oscar_llm.demo.support_seed import seed_rows as build

    return tuple(build())


def stratified_split(rows: list[dict[str, str]], test_share: float = 0.2, seed: int = 0):
    from oscar_llm.support.training import stratified_split as split

    return split(rows, test_share, seed)


def write_csv(rows: list[dict[str, str]], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    return path


@functools.lru_cache(maxsize=1)
def embedder():
    from oscar_llm.llm.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@functools.lru_cache(maxsize=1)
def seed_pairs():
    """``support_pairs`` of the seed tickets against the demo articles, retrieved by meaning as drafting does."""
    from oscar_llm.demo.knowledge_base import article_facts
    from oscar_llm.support.training import support_pairs

    return support_pairs(seed_rows(), article_facts(), embedder=embedder())


@functools.lru_cache(maxsize=1)
def tiny_support_model_dir() -> str:
    """The one tiny support model of a test run, trained as ``oscar_llm_train --support`` trains it (~1 min).

    Reply pairs from the seed tickets built by ``support_pairs`` against the demo knowledge base, a
    tiny GPT-2 through ``train_causal_lm``, and the triage fitted on the same tickets, saved next to
    the model where the worker looks for it. Trained once per test process, then dropped.
    """
    from oscar_llm.llm.training import train_causal_lm
    from oscar_llm.support.triage import triage_dir_for

    root = tempfile.mkdtemp(prefix="oscar_llm_support_model_")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    out = Path(root) / "model"
    data = seed_pairs()
    # Bounded by steps, not by the clock: a busy machine trains the same model, only later.
    train_causal_lm(data.pairs, out, minutes=10, size="tiny", max_steps=500, progress=False, seed=0)
    fitted_triage().save(triage_dir_for(out))
    return str(out)


@functools.lru_cache(maxsize=1)
def fitted_triage():
    """The triage fitted on every seed ticket (the one the tiny model is saved with)."""
    from oscar_llm.support.triage import IntentClassifier

    rows = seed_rows()
    triage = IntentClassifier(embedder())
    triage.fit([r["instruction"] for r in rows], [r["intent"] for r in rows])
    return triage


class ScriptedGenerator:
    """A generator that always writes the same reply: it plays a model that misbehaves on purpose.

    Used only where a test needs a specific bad draft (an order of another customer, a
    promise outside policy) to reach the checks; real generation is tested with the
    tiny trained model.
    """

    in_process = True

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.model_id = "scripted"
        self.requests: list = []

    def generate(self, requests, options):
        self.requests += list(requests)
        return [[self.reply] * max(1, options.num_candidates) for _ in requests]


def order_fact():
    from oscar_llm.support.types import OrderFact, OrderLineFact

    return OrderFact(
        number="100023",
        status="Shipped",
        placed="2026-11-02",
        total="59.90",
        currency="GBP",
        lines=(OrderLineFact(title="Navy Linen Shirt", quantity=1, price="49.90"),),
        shipping_city="Leeds",
        shipping_country="United Kingdom",
        tracking="RM123456789GB",
    )


def drafter(generator, **kwargs):
    from oscar_llm.demo.knowledge_base import article_facts
    from oscar_llm.support.drafting import SupportDrafter
    from oscar_llm.support.knowledge import ArticleIndex

    index = ArticleIndex(article_facts(), embedder=embedder())
    return SupportDrafter(
        generator=generator,
        triage=fitted_triage(),
        index=index,
        embedder=embedder(),
        shop_name="Alder & Finch",
        **kwargs,
    )
