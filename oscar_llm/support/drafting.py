"""The drafting pipeline: triage -> retrieval -> facts -> prompt -> generate -> fill -> check -> confidence.

One code path for the Celery job, the dashboard's "regenerate" and
``oscar_llm_eval support``. Pure Python: the Django side turns tickets into
:class:`DraftRequest` values and stores the :class:`DraftResult`.

The shop's own model writes replies with ``{{Placeholder}}`` slots (it learns
them from the Bitext replies); the pipeline fills them from the gathered facts
only (:mod:`.facts`) and checks the result (:mod:`.checks`). An instruction
model behind an OpenAI-compatible server gets the same facts as chat messages;
personal data is redacted before they leave the process and restored in its
reply.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..guardrails.injection import clean_text
from ..guardrails.redaction import Redactor
from ..llm.base import GenerationOptions, GenerationRequest, TextGenerator
from .checks import DANGLING_ITEM_RE, DraftCheck, check_draft
from .facts import CONTACT_TAG, GatheredFacts
from .knowledge import ArticleIndex
from .prompts import PROMPT_VERSION, build_request
from .triage import IntentClassifier
from .types import DraftRequest, DraftResult

# Characters of a ticket the triage and retrieval read (MiniLM reads ~256 word pieces).
QUERY_CHARS = 2000
# The least probability the triage may give the ticket's intent when it reads the draft
# (measured on the held-out Bitext split: 99.2% of the reference replies pass, 45% of the
# drafts of a model trained for 8 minutes do).
RELEVANCE_MIN_PROBABILITY = 0.15
# How confidence is made up; checks that fail send the ticket to a human anyway.
WEIGHTS = {"intent": 0.45, "retrieval": 0.25, "checks": 0.30}


def _in_process(generator: Any) -> bool:
    flag = getattr(generator, "in_process", None)
    if flag is not None:
        return bool(flag)
    return hasattr(generator, "model") and hasattr(generator, "tokenizer")


@dataclass
class _Work:
    """One request on its way through the pipeline."""

    request: DraftRequest
    text: str  # the customer's message, cleaned once for every stage
    query: str
    intent: str = ""
    intent_confidence: float = 0.0
    hits: list[tuple[Any, float]] = field(default_factory=list)
    facts: GatheredFacts | None = None
    generation: GenerationRequest | None = None
    redactor: Redactor | None = None
    best: DraftCheck | None = None
    candidates_tried: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class SupportDrafter:
    def __init__(
        self,
        *,
        generator: TextGenerator,
        triage: IntentClassifier,
        index: ArticleIndex,
        embedder: Any = None,
        redact: bool | None = None,
        shop_name: str = "",
        articles_k: int = 3,
        min_confidence: float = 0.6,
        max_new_tokens: int = 200,
        retry_candidates: int = 2,
        batch_size: int = 16,
        language: str = "en",
    ) -> None:
        self.generator = generator
        self.triage = triage
        self.index = index
        self.embedder = embedder or getattr(triage, "_embedder", None) or getattr(index, "_embedder", None)
        self.redact = (not _in_process(generator)) if redact is None else redact
        self.shop_name = shop_name
        self.articles_k = articles_k
        self.min_confidence = min_confidence
        self.max_new_tokens = max_new_tokens
        self.retry_candidates = retry_candidates
        self.batch_size = batch_size
        self.language = language
        self.model_id = str(getattr(generator, "model_id", type(generator).__name__))

    @classmethod
    def from_settings(
        cls, *, generator: Any = None, triage: Any = None, index: Any = None, **kwargs: Any
    ) -> SupportDrafter:
        """Build with ``OSCAR_LLM["SUPPORT"]`` (imports Django settings: workers and commands only).

        ``index`` holds the shop's articles (``knowledge_base.load_knowledge_base``); without one
        the drafter has no articles, so its drafts cite none.
        """
        from ..llm.registry import get_embedder, get_generator
        from ..settings import llm_settings
        from .triage import default_triage_dir

        support = llm_settings.SUPPORT
        embedder = kwargs.pop("embedder", None) or get_embedder()
        if triage is None:
            triage = IntentClassifier.load(default_triage_dir(), embedder=embedder)
        if index is None:
            # No articles given, none invented (never another shop's policies).
            index = ArticleIndex([], embedder=embedder)
        options = {
            "shop_name": support.get("SHOP_NAME") or "",
            "articles_k": support["ARTICLES_K"],
            "min_confidence": support["MIN_CONFIDENCE"],
            "max_new_tokens": support["MAX_NEW_TOKENS"],
            "retry_candidates": support["RETRY_CANDIDATES"],
            **kwargs,
        }
        return cls(generator=generator or get_generator(), triage=triage, index=index, embedder=embedder, **options)

    # -- public -----------------------------------------------------------------------------

    def draft(self, request: DraftRequest) -> DraftResult:
        return self.draft_many([request])[0]

    def draft_many(self, requests: Sequence[DraftRequest]) -> list[DraftResult]:
        """Draft replies for several tickets, generating them in batches."""
        works = []
        for request in requests:
            text = clean_text(request.customer_text or "")
            works.append(_Work(request=request, text=text, query=self._query(text, request.subject)))
        if not works:
            return []
        vectors = self._classify(works)
        self._retrieve(works, vectors)
        self._prompt(works)
        self._generate(works, GenerationOptions(do_sample=False, num_candidates=1, batch_size=self.batch_size))
        failing = [w for w in works if w.best is None or not w.best.passed]
        if failing and self.retry_candidates > 0:
            # Sampled alternatives for drafts that failed their checks (not for a
            # steering attempt: no candidate can fix the customer's message).
            retry = [w for w in failing if not _failed(w.best, "injection")]
            self._generate(
                retry,
                GenerationOptions(do_sample=True, num_candidates=self.retry_candidates, batch_size=self.batch_size),
            )
        return [self._result(w) for w in works]

    # -- stages -----------------------------------------------------------------------------

    def _query(self, text: str, subject: str | None) -> str:
        subject = clean_text(subject or "")
        query = f"{subject}. {text}" if subject and subject.lower() not in text.lower() else text
        return query[:QUERY_CHARS]

    def _embed(self, texts: list[str]) -> np.ndarray:
        embedder = self.embedder or self.triage.embedder
        return np.asarray(embedder.embed(texts), dtype=np.float32)

    def _classify(self, works: list[_Work]) -> np.ndarray:
        """Intent per work; returns the query vectors, which retrieval reuses."""
        started = time.perf_counter()
        vectors = self._embed([w.query for w in works])
        predictions = self.triage.predict([w.query for w in works], vectors)
        share = (time.perf_counter() - started) / len(works)
        for work, (intent, probability) in zip(works, predictions, strict=True):
            work.intent, work.intent_confidence = intent, probability
            work.timings["triage"] = share
        return vectors

    def _retrieve(self, works: list[_Work], vectors: np.ndarray) -> None:
        contact = self.index.by_tag(CONTACT_TAG)
        for work, vector in zip(works, vectors, strict=True):
            started = time.perf_counter()
            work.hits = self.index.search(work.query, self.articles_k, intent=work.intent, vector=vector)
            request = work.request
            work.facts = GatheredFacts(
                customer_name=request.customer_name.strip(),
                orders=tuple(request.orders),
                linked_order_numbers=tuple(request.linked_order_numbers),
                articles=[a for a, _ in work.hits],
                contact_articles=contact,
                shop_name=self.shop_name,
            )
            work.timings["retrieval"] = time.perf_counter() - started

    def _prompt(self, works: list[_Work]) -> None:
        for work in works:
            started = time.perf_counter()
            facts, request = work.facts, work.request
            assert facts is not None
            generation = build_request(
                work.intent,
                work.text,
                request.subject or "",
                shop_name=self.shop_name or "the shop",
                orders=facts.orders,
                has_order=facts.order is not None,
                has_name=bool(facts.customer_name),
                articles=facts.articles,
                placeholders=facts.placeholder_names(),
                similar=request.similar,
                max_new_tokens=self.max_new_tokens,
            )
            if self.redact:
                # Nothing personal leaves the process: the customer's name and
                # contact details become placeholders; order numbers and the
                # shop's own contact facts stay (the reply needs them).
                keep = set(facts.order_numbers) | {v for v, _ in facts.contact.values()}
                redactor = Redactor(keep=keep)
                personal = [facts.customer_name, *facts.customer_name.split()] if facts.customer_name else []
                generation.prompt = redactor.redact(generation.prompt, personal)
                generation.messages = [
                    {**m, "content": redactor.redact(m["content"], personal)} for m in generation.messages
                ]
                work.redactor = redactor
            work.generation = generation
            work.timings["prompt"] = time.perf_counter() - started

    def _generate(self, works: list[_Work], options: GenerationOptions) -> None:
        if not works:
            return
        started = time.perf_counter()
        outputs = self.generator.generate([w.generation for w in works], options)  # type: ignore[misc]
        share = (time.perf_counter() - started) / len(works)
        checks_started = time.perf_counter()
        checked_all: list[tuple[_Work, DraftCheck]] = []
        for work, candidates in zip(works, outputs, strict=True):
            work.timings["generate"] = work.timings.get("generate", 0.0) + share
            for candidate in candidates:
                work.candidates_tried += 1
                checked_all.append((work, self._check(work, candidate)))
        self._check_relevance(checked_all)
        for work, checked in checked_all:
            if work.best is not None and work.best.passed:
                continue
            if work.best is None or len(checked.failures) < len(work.best.failures):
                work.best = checked
        checks_share = (time.perf_counter() - checks_started) / len(works)
        for work in works:
            work.timings["checks"] = work.timings.get("checks", 0.0) + checks_share

    def _check_relevance(self, checked: list[tuple[_Work, DraftCheck]]) -> None:
        """Does the draft answer this ticket? The triage reads the draft and must find the ticket's intent plausible.

        An independent reading of what the text is about: a fluent draft about the
        wrong thing (a delivery date for a cancellation) fails, where the checks
        of facts alone would pass it.
        """
        texts = [c.text for _, c in checked]
        if not texts:
            return
        vectors = self._embed([t or " " for t in texts])
        predicted = self.triage.predict(texts, vectors)
        wanted = self.triage.probability_of(texts, [w.intent for w, _ in checked], vectors)
        for (work, check), (intent, top), probability in zip(checked, predicted, wanted, strict=True):
            # Neighbouring intents (track_order / delivery_period) share replies: the ticket's
            # intent need not win, only be a plausible reading of the draft.
            ok = intent == work.intent or probability >= RELEVANCE_MIN_PROBABILITY
            problems = [] if ok else [f"reads as '{intent}' ({top:.2f}), not '{work.intent}' ({probability:.2f})"]
            check.add("relevance", problems, f"answers '{work.intent}' ({probability:.2f})")

    def _check(self, work: _Work, candidate: str) -> DraftCheck:
        facts = work.facts
        assert facts is not None
        text = work.redactor.restore(candidate) if work.redactor else candidate
        # An empty last list item ("...\n5.") is the model stopping where its
        # training replies were cut; dropping the bare number removes no content.
        text = DANGLING_ITEM_RE.sub("", text.rstrip())
        filled, citations, _unfilled = facts.fill(text.strip())
        spans = [(c["start"], c["end"]) for c in citations]
        checked = check_draft(
            filled, facts, work.request.customer_text or "", language=self.language, filled_spans=spans
        )
        if checked.text == filled:
            checked.citations = citations + checked.citations
        else:  # markup was removed, so spans moved: keep the citations, drop their spans
            checked.citations = [{k: v for k, v in c.items() if k not in ("start", "end")} for c in citations]
        return checked

    def _result(self, work: _Work) -> DraftResult:
        best = work.best
        assert best is not None and work.facts is not None
        top_score = work.hits[0][1] if work.hits else 0.0
        checks_share = sum(c["passed"] for c in best.checks) / len(best.checks) if best.checks else 0.0
        confidence = (
            WEIGHTS["intent"] * work.intent_confidence
            + WEIGHTS["retrieval"] * min(max(top_score, 0.0), 1.0)
            + WEIGHTS["checks"] * checks_share
        )
        reasons = list(best.failures)
        if best.passed and confidence < self.min_confidence:
            reasons.append(f"confidence {confidence:.2f} is below {self.min_confidence:.2f}")
        needs_human = bool(reasons)
        articles = [{"id": a.id, "title": a.title, "score": round(s, 4)} for a, s in work.hits]
        citations = best.citations
        if not needs_human and work.hits and not any(c["kind"] == "article" for c in citations):
            top = work.hits[0][0]
            citations = [*citations, {"kind": "article", "id": top.id, "title": top.title, "quote": top.title}]
        timings = {k: round(v, 4) for k, v in work.timings.items()}
        timings["total"] = round(sum(timings.values()), 4)
        return DraftResult(
            text="" if needs_human else best.text,
            intent=work.intent,
            intent_confidence=round(work.intent_confidence, 4),
            citations=_dedupe(citations),
            checks=best.checks,
            confidence=round(confidence, 4),
            needs_human=needs_human,
            reasons=reasons,
            articles=articles,
            model_id=self.model_id,
            prompt_version=PROMPT_VERSION,
            timings=timings,
            candidate=best.text,
            candidates_tried=work.candidates_tried,
        )


def _failed(check: DraftCheck | None, name: str) -> bool:
    return bool(check) and any(c["name"] == name and not c["passed"] for c in check.checks)  # type: ignore[union-attr]


def _dedupe(citations: list[dict]) -> list[dict]:
    seen, result = set(), []
    for citation in citations:
        key = tuple(sorted((k, str(v)) for k, v in citation.items()))
        if key not in seen:
            seen.add(key)
            result.append(citation)
    return result
