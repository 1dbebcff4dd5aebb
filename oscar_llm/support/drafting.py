"""The drafting pipeline: triage -> articles -> library reply -> adapt and fill -> check -> confidence.

One code path for the Celery job, the dashboard's "regenerate" and
``oscar_llm_eval support``. Pure Python: the Django side turns tickets into
:class:`DraftRequest` values and stores the :class:`DraftResult`.

A draft starts from the reply library (:mod:`.library`: replies staff saved or
approved, the shop's reply patterns, an imported Bitext file): the best replies
for the ticket are adapted to this customer and this shop and filled from their
facts (:mod:`.compose`), then checked (:mod:`.checks`); the first that passes is
the draft. The text model writes only where the library has nothing close (its
closest question below ``library_min_similarity``) or no entries at all: the
shop's own model writes replies with ``{{Placeholder}}`` slots, filled the same
way; an instruction model behind an OpenAI-compatible server gets the same facts
as chat messages, with personal data redacted before they leave the process and
restored in its reply. See docs/architecture.md, "Support drafts".
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..guardrails.injection import clean_text
from ..guardrails.redaction import Redactor
from ..llm.base import GenerationOptions, GenerationRequest, TextGenerator
from .checks import DANGLING_ITEM_RE, MIN_LENGTH, DraftCheck, check_draft
from .compose import Composition, as_template, compose, drop_unsupported, relocate
from .facts import CONTACT_TAG, GatheredFacts, stated_facts
from .knowledge import ArticleIndex
from .library import Ranked, ReplyLibrary
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
# Below this similarity of the ticket to the closest library question, the text model writes the
# draft. On the validation split (bench/bench_support_library.py) the library's reply scored 0.81-0.85
# against the reference reply in every band from 0.5 up, above the model's 0.578 (issue 10's
# figure); only 3 of 505 validation tickets fell below 0.5.
LIBRARY_MIN_SIMILARITY = 0.5
# Library replies tried per ticket, best first; the first that passes every check wins.
LIBRARY_CANDIDATES = 5
# Added to a library reply's rank for each slot it fills from this customer's own facts: a ticket
# about a known order should get the reply that speaks about that order. With 0.05 the generic
# replies' agreement still won for all four demo tickets (they differ by 0.1-0.15); with 0.1 the
# reply naming the order's number, date, total and status wins for each.
OWN_FACT_BONUS = 0.1
# A text the model wrote fails the fluency check when its loss per token under the shop model is this
# far (nats) above the 95th percentile of the library's own replies (e^1.5: 4.5 times the perplexity).
LOSS_MARGIN = 1.5
LOSS_SAMPLE = 64


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
    library_similarity: float = 0.0
    source: Ranked | None = None  # the library reply ``best`` came from (None: the model wrote it)
    composition: Composition | None = None
    rewritten_by: str = ""  # the model that rewrote the library reply in the shop's voice


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
        library: ReplyLibrary | None = None,
        library_min_similarity: float = LIBRARY_MIN_SIMILARITY,
        library_candidates: int = LIBRARY_CANDIDATES,
        rewrite: bool = False,
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
        self.library = library
        self.library_min_similarity = library_min_similarity
        self.library_candidates = library_candidates
        self.rewrite = rewrite
        self._active_library: ReplyLibrary | None = library
        self._loss_limits: dict[int, float] = {}
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
            "library_min_similarity": support.get("LIBRARY_MIN_SIMILARITY", LIBRARY_MIN_SIMILARITY),
            "rewrite": bool(support.get("REWRITE", False)),
            **kwargs,
        }
        return cls(generator=generator or get_generator(), triage=triage, index=index, embedder=embedder, **options)

    # -- public -----------------------------------------------------------------------------

    def draft(self, request: DraftRequest) -> DraftResult:
        return self.draft_many([request])[0]

    def draft_many(self, requests: Sequence[DraftRequest], *, library: ReplyLibrary | None = None) -> list[DraftResult]:
        """Draft replies for several tickets: from the library where it has a close reply, else by the model."""
        works = []
        for request in requests:
            text = clean_text(request.customer_text or "")
            works.append(_Work(request=request, text=text, query=self._query(text, request.subject)))
        if not works:
            return []
        vectors = self._classify(works)
        self._retrieve(works, vectors)
        library = library if library is not None else self.library
        self._active_library = library
        if library is not None and len(library):
            self._from_library(works, vectors, library)
            if self.rewrite:
                self._rewrite([w for w in works if w.source is not None and w.best is not None and w.best.passed])
        # The model writes where the library has nothing close.
        to_write = [w for w in works if w.library_similarity < self.library_min_similarity]
        self._prompt(to_write)
        self._generate(to_write, GenerationOptions(do_sample=False, num_candidates=1, batch_size=self.batch_size))
        failing = [w for w in to_write if w.best is None or not w.best.passed]
        if failing and self.retry_candidates > 0:
            # Sampled alternatives for drafts that failed their checks (not for a
            # steering attempt: no candidate can fix the customer's message).
            retry = [w for w in failing if not _failed(w.best, "injection")]
            self._generate(
                retry,
                GenerationOptions(do_sample=True, num_candidates=self.retry_candidates, batch_size=self.batch_size),
            )
        return [self._result(w) for w in works]

    def _from_library(self, works: list[_Work], vectors: np.ndarray, library: ReplyLibrary) -> None:
        """The best library replies for each ticket, each adapted, filled and checked; the best that passes wins.

        "Best" is judged on the adapted draft, not the reply it came from: its closeness to what the
        replies of the closest questions agree on (``ReplyLibrary.consensus``), so a reply that lost
        sentences to this shop's facts, or had to ask for what the customer did not give, falls back
        behind one that kept them (docs/architecture.md, "Support drafts")."""
        tried: list[tuple[_Work, np.ndarray, list[tuple[DraftCheck, Ranked, Composition, float]]]] = []
        for work, vector in zip(works, vectors, strict=True):
            started = time.perf_counter()
            ranked = library.rank(vector, work.intent, k=self.library_candidates)
            work.library_similarity = max((r.similarity for r in ranked), default=0.0)
            if work.library_similarity < self.library_min_similarity:
                work.timings["library"] = time.perf_counter() - started
                continue
            candidates = []
            for item in ranked:
                assert work.facts is not None
                composition = compose(item.reply.text, work.facts)
                checked = self._checked(work, composition.text, composition.citations)
                dropped = 0
                repair = drop_unsupported(checked)
                sentences = max(1, len(re.findall(r"[.!?](?:\s|$)", checked.text)))
                # A reply that would lose more than a third of its sentences is no longer the reply.
                if repair is not None and len(repair[0]) >= MIN_LENGTH and repair[1] <= max(1, sentences // 3):
                    # Written for another shop: the sentences stating what this shop's facts do not
                    # back go, and what is left is checked again from the start.
                    citations = relocate(composition.citations, checked.text, repair[0])
                    repaired = self._checked(work, repair[0], citations)
                    if repaired.passed:
                        checked, dropped = repaired, repair[1]
                        composition.slots.append(
                            {"slot": "(sentences)", "missing": f"dropped {dropped}: not backed by this shop's facts"}
                        )
                # The reply was written (by a person) for this intent: that is its relevance.
                checked.add("relevance", [], f"a library reply for '{item.reply.intent}'")
                work.candidates_tried += 1
                # The library's rank, nudged towards replies that use more of this customer's own facts.
                own_facts = sum(1 for s in composition.slots if s.get("source") in ("order", "customer"))
                base = item.score + OWN_FACT_BONUS * own_facts
                candidates.append((checked, item, composition, base))
                if _failed(checked, "injection"):
                    break  # the customer's message itself: no other reply fixes it
            work.timings["library"] = time.perf_counter() - started
            if candidates:
                tried.append((work, vector, candidates))
        if not tried:
            return
        started = time.perf_counter()
        # Each adapted draft in the library's own form (its values back as slots), so that it is compared
        # with the replies as they are kept.
        texts = [as_template(c.text, p.slots) for _, _, candidates in tried for c, _, p, _ in candidates]
        drafted = self._embed(texts)
        drafted /= np.maximum(np.linalg.norm(drafted, axis=1, keepdims=True), 1e-9)
        position = 0
        for work, vector, candidates in tried:
            consensus = library.consensus(vector, work.intent)
            adapted = drafted[position : position + len(candidates)] @ consensus
            position += len(candidates)
            # What adapting cost (or gained): the draft's agreement with the consensus against its reply's.
            change = [
                float(adapted[i]) - float(library.reply_vectors[item.index] @ consensus) if item.index >= 0 else 0.0
                for i, (_, item, _, _) in enumerate(candidates)
            ]
            best = max(
                range(len(candidates)),
                key=lambda i: (
                    candidates[i][0].passed,
                    -len(candidates[i][0].failures),
                    candidates[i][3] + library.weights.agreement * change[i],
                ),
            )
            work.best, work.source, work.composition, _ = candidates[best]
            work.timings["library"] = work.timings.get("library", 0.0) + (time.perf_counter() - started) / len(tried)

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
                policy_articles=self.index.articles,
                stated=stated_facts(work.text),
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
                # Every value the shop holds about the customer (names, e-mail, username, address
                # lines, town, postcode, phones) and whatever looks personal (dates of birth, ID,
                # card and bank numbers) become placeholders; order numbers and the shop's own contact
                # facts stay (the reply needs them). Data the shop does not hold and no pattern
                # describes (a neighbour's name) can still leave.
                keep = set(facts.order_numbers) | {v for v, _ in facts.contact.values()}
                redactor = Redactor(keep=keep, known=request.customer)
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
        self._check_loss(checked_all)
        for work, checked in checked_all:
            if work.best is not None and work.best.passed:
                continue
            if work.best is None or len(checked.failures) < len(work.best.failures):
                work.best = checked
        checks_share = (time.perf_counter() - checks_started) / len(works)
        for work in works:
            work.timings["checks"] = work.timings.get("checks", 0.0) + checks_share

    def _rewrite(self, works: list[_Work]) -> None:
        """An instruction model (or a served one) rewrites the filled library reply in the shop's voice.

        The rewrite must pass every check the library reply passed (the same facts: no new number,
        date, order or promise); where it does not, the library reply stays. Personal data is redacted
        before the text leaves the process, as for any prompt.
        """
        if not works:
            return
        started = time.perf_counter()
        requests, redactors = [], []
        for work in works:
            assert work.best is not None and work.facts is not None
            system = (
                f"You edit replies of the customer support team of {self.shop_name or 'an online shop'}. Rewrite "
                "the reply below so it reads warmly and naturally in the shop's voice. Keep every fact exactly: "
                "order numbers, dates, amounts, durations, names, links and steps. Add no fact, promise, "
                "discount or refund that is not in it. Reply with the rewritten message only, in plain text."
            )
            messages = [{"role": "system", "content": system}, {"role": "user", "content": work.best.text}]
            redactor = None
            if self.redact:
                keep = set(work.facts.order_numbers) | {v for v, _ in work.facts.contact.values()}
                redactor = Redactor(keep=keep, known=work.request.customer)
                name = work.facts.customer_name
                personal = [name, *name.split()] if name else []
                messages = [{**m, "content": redactor.redact(m["content"], personal)} for m in messages]
            redactors.append(redactor)
            requests.append(
                GenerationRequest(prompt=work.best.text, messages=messages, max_new_tokens=self.max_new_tokens * 2)
            )
        outputs = self.generator.generate(requests, GenerationOptions(do_sample=False, num_candidates=1))
        for work, redactor, candidates in zip(works, redactors, outputs, strict=True):
            text = (candidates[0] if candidates else "").strip()
            if redactor is not None:
                text = redactor.restore(text)
            if not text:
                continue
            checked = self._checked(work, text, [])
            checked.add("relevance", [], f"a rewrite of a library reply for '{work.intent}'")
            work.candidates_tried += 1
            if checked.passed:
                checked.citations = checked.citations or work.best.citations  # type: ignore[union-attr]
                work.best = checked
                work.rewritten_by = self.model_id
        work_share = (time.perf_counter() - started) / len(works)
        for work in works:
            work.timings["rewrite"] = work_share

    def loss_limit(self) -> float | None:
        """The loss per token above which model text reads as broken: from the library's own replies."""
        library = self._active_library
        scorer = getattr(self.generator, "token_loss", None)
        if library is None or not len(library) or scorer is None or not _in_process(self.generator):
            return None
        if self._loss_limits.get(id(library)) is None:
            step = max(1, len(library) // LOSS_SAMPLE)
            sample = [r.text for r in library.replies[::step][:LOSS_SAMPLE]]
            self._loss_limits = {id(library): float(np.quantile(scorer(sample), 0.95)) + LOSS_MARGIN}
        return self._loss_limits[id(library)]

    def _check_loss(self, checked: list[tuple[_Work, DraftCheck]]) -> None:
        """Model text whose perplexity under the shop model is far above the library's replies fails fluency."""
        limit = self.loss_limit()
        if limit is None or not checked:
            return
        losses = self.generator.token_loss([c.text or " " for _, c in checked])  # type: ignore[attr-defined]
        for (_work, check), loss in zip(checked, losses, strict=True):
            if loss > limit:
                check.add(
                    "fluency", [f"reads as broken language (loss {loss:.2f} per token, library up to {limit:.2f})"]
                )

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
        return self._checked(work, filled, citations)

    def _checked(self, work: _Work, filled: str, citations: list[dict]) -> DraftCheck:
        """Every check on a filled draft; ``citations`` carry the spans of the filled values."""
        assert work.facts is not None
        spans = [(c["start"], c["end"]) for c in citations if "start" in c]
        checked = check_draft(
            filled, work.facts, work.request.customer_text or "", language=self.language, filled_spans=spans
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
        if work.source is not None:
            top_score = work.source.similarity  # how close the library's question is to this ticket
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
            library=_library_source(work),
            slots=list(work.composition.slots) if work.composition else [],
        )


def _library_source(work: _Work) -> dict[str, Any] | None:
    """Which library reply the draft came from (None when the model wrote it)."""
    if work.source is None:
        return None
    reply = work.source.reply
    return {
        "id": reply.id,
        "source": reply.source,
        "rewritten_by": work.rewritten_by,
        "intent": reply.intent,
        "question": reply.question[:500],
        "text": reply.text,
        "similarity": round(work.source.similarity, 4),
        "score": round(work.source.score, 4),
    }


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
