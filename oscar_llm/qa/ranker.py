"""The evidence ranker and the answerability decision for product questions.

A question has a handful of candidate pieces of evidence (a fact, a sentence of the copy, a review,
an earlier answer, a knowledge article). Each (question, candidate) pair becomes a feature vector:

* meaning: MiniLM cosine of the question with the candidate, with its main part and, for an earlier
  answer ("answer Question: the question it answered"), with the question it answered; the
  elementwise product of the two vectors (which dimensions agree), and each cosine relative to the
  best candidate of the same question;
* words: the share of the question's content words found in the candidate (plain and weighted by
  how rare a word is), the BM25 score relative to the best candidate, shared numbers, the attribute's
  name against the question;
* shape: the candidate's source (fact, copy, review, earlier answer...), its length, whether the
  question is a yes/no question;
* with ``config.tuned_encoder``: the score of MiniLM fine-tuned on TRAIN (``tuned_encoder.py``), as is
  and relative to the best and the mean candidate (out-of-half scores while fitting, see there).

A logistic regression fitted on labelled questions (TRAIN) turns the vector into the probability that
the candidate fully answers the question; candidates are ranked by it. The question counts as
answered when the best candidate's probability reaches a threshold chosen on held-out folds of TRAIN
(the lowest that keeps the precision of the answered questions at the target).

For attribute-only ranking (semiPQA: "which attribute answers this question") the features add how
close the question is to the training questions this attribute name answered.

numpy and scikit-learn only; the embedder and the tuned encoder are passed in, so this module imports
neither Django nor torch (``load`` imports the tuned encoder, and torch, when the saved ranker has one).
Saved as a NumPy archive read with ``allow_pickle=False`` plus JSON (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .files import read_checked_meta

RANKER_FILE = "qa_ranker.npz"
RANKER_META = "qa_ranker.json"
FORMAT = 1

SOURCES = ("attribute", "bullet", "description", "review", "cqa", "answer", "article")
YES_NO_START = re.compile(
    r"^\s*(is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|may|might|must)\b", re.I
)
WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
_STOP_WORDS = (
    "a an the this that these those is are was were be been being do does did can could will "
    "would should has have had may might must i you he she it we they me my your our its their "
    "of in on at to for from with by about as into than then so if or and but not no yes what "
    "which who whom whose when where why how there here any some all one get got will also just "
    "very much many more most other such only own same too s t don doesn isn aren wasn weren "
    "won wouldn couldn shouldn item product "
)
STOP = frozenset(_STOP_WORDS.split())  # noqa: SIM905 - a word list reads better as text
QUESTION_MARK = " Question: "


def words(text: str) -> list[str]:
    return WORD_RE.findall((text or "").lower())


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP and len(w) > 1]


def split_candidate(text: str) -> tuple[str, str]:
    """An earlier answer carries the question it answered after " Question: "; return (main, question)."""
    if QUESTION_MARK in text:
        main, _, asked = text.partition(QUESTION_MARK)
        return main.strip(), asked.strip()
    return text.strip(), ""


def attribute_key(text: str) -> str:
    """``item_weight:  { value:... }`` -> ``item weight`` ("" when the text is not an attribute)."""
    match = re.match(r"^\s*([A-Za-z][A-Za-z0-9_ ]{0,60}):", text or "")
    return match.group(1).replace("_", " ").strip().lower() if match else ""


def attribute_value(text: str) -> str:
    """The readable values of an attribute line (``{ value:"little kid" }`` -> ``little kid``)."""
    _, _, rest = (text or "").partition(":")
    values = re.findall(r'value:\s*"?([^,"}]+)"?', rest)
    return " ".join(v.strip() for v in values) if values else rest.strip(" {}")


@dataclass
class Candidate:
    text: str
    source: str = ""


@dataclass
class Question:
    qid: str
    text: str
    candidates: list[Candidate]
    labels: list[int] | None = None  # TRAIN only: 2 fully answers, 1 helps, 0 irrelevant


Embed = Callable[[list[str]], np.ndarray]


def _normalise(vectors: Any) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.maximum(norms, 1e-9)


class EmbeddingCache:
    """Embeds each distinct text once (the same review or fact recurs across questions)."""

    def __init__(self, embed: Embed) -> None:
        self.embed = embed
        self.vectors: dict[str, np.ndarray] = {}

    def fill(self, texts: Sequence[str]) -> None:
        missing = sorted({t for t in texts if t not in self.vectors})
        for start in range(0, len(missing), 256):
            chunk = missing[start : start + 256]
            for text, vector in zip(chunk, _normalise(self.embed(chunk)), strict=True):
                self.vectors[text] = vector

    def __call__(self, text: str) -> np.ndarray:
        if text not in self.vectors:
            self.fill([text])
        return self.vectors[text]


@dataclass
class RankerConfig:
    mode: str = "evidence"  # "evidence" (mixed sources) or "attribute" (attribute lines only)
    C: float = 0.5
    product_dims: bool = False
    model: str = "logistic"  # or "mlp": one hidden layer, same storage (weights only)
    hidden: int = 16
    partial_weight: float = 0.0  # label 1 ("helps") counted as this much of a positive
    target_precision: float = 0.86
    tuned_encoder: bool = False  # add the scores of MiniLM fine-tuned on TRAIN (tuned_encoder.py)


@dataclass
class QARanker:
    """Scores (question, candidate) pairs; see the module docstring."""

    config: RankerConfig = field(default_factory=RankerConfig)
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    coef: np.ndarray | None = None
    hidden_w: np.ndarray | None = None
    hidden_b: np.ndarray | None = None
    intercept: float = 0.0
    threshold: float = 0.5
    idf: dict[str, float] = field(default_factory=dict)
    default_idf: float = 1.0
    key_questions: dict[str, np.ndarray] = field(default_factory=dict)  # attribute mode
    key_counts: dict[str, int] = field(default_factory=dict)
    embedder_id: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    tuned: Any = None  # the fitted tuned_encoder.TunedEncoder when config.tuned_encoder
    tuned_scores: dict[str, np.ndarray] = field(default_factory=dict)  # TRAIN's out-of-half scores

    # -- features -----------------------------------------------------------------------------

    def fit_vocabulary(self, questions: Sequence[Question]) -> None:
        documents: Counter[str] = Counter()
        total = 0
        for question in questions:
            for candidate in question.candidates:
                documents.update(set(content_words(candidate.text)))
                total += 1
        self.idf = {w: math.log(1 + total / (1 + n)) for w, n in documents.items() if n > 1}
        self.default_idf = math.log(1 + total)

    def _idf(self, word: str) -> float:
        return self.idf.get(word, self.default_idf)

    def texts_to_embed(self, question: Question) -> list[str]:
        texts = [question.text]
        for candidate in question.candidates:
            main, asked = split_candidate(candidate.text)
            texts += [candidate.text, main]
            if asked:
                texts.append(asked)
            key = attribute_key(candidate.text)
            if key:
                texts += [key, attribute_value(candidate.text) or key]
        return texts

    def _tuned(self, question: Question) -> np.ndarray:
        """Tuned encoder scores: out-of-half ones for a TRAIN question while fitting, else the fitted model's."""
        known = self.tuned_scores.get(question.qid)
        if known is not None and len(known) == len(question.candidates):
            return np.asarray(known, dtype=np.float64)
        if self.tuned is None:
            raise RuntimeError("This ranker uses a tuned encoder and has none: refit it.")
        return np.asarray(self.tuned.score(question), dtype=np.float64)

    def features(self, question: Question, vec: EmbeddingCache) -> np.ndarray:
        q_vec = vec(question.text)
        q_words = content_words(question.text)
        q_set = set(q_words)
        q_weight = sum(self._idf(w) for w in q_set) or 1.0
        q_numbers = set(NUMBER_RE.findall(question.text))
        yes_no = 1.0 if YES_NO_START.match(question.text) else 0.0
        rows: list[list[float]] = []
        products: list[np.ndarray] = []
        bm25: list[float] = []
        lengths = [len(content_words(c.text)) for c in question.candidates]
        avg_len = (sum(lengths) / len(lengths)) if lengths else 1.0
        for candidate, length in zip(question.candidates, lengths, strict=True):
            main, asked = split_candidate(candidate.text)
            c_vec, m_vec = vec(candidate.text), vec(main)
            cos_full = float(q_vec @ c_vec)
            cos_main = float(q_vec @ m_vec)
            cos_asked = float(q_vec @ vec(asked)) if asked else 0.0
            key = attribute_key(candidate.text)
            value = attribute_value(candidate.text) if key else ""
            cos_key = float(q_vec @ vec(key)) if key else 0.0
            cos_value = float(q_vec @ vec(value or key)) if key else 0.0
            c_words = content_words(candidate.text)
            c_set = set(c_words)
            overlap = len(q_set & c_set) / (len(q_set) or 1)
            weighted = sum(self._idf(w) for w in q_set & c_set) / q_weight
            key_words = set(content_words(key))
            key_overlap = len(q_set & key_words) / (len(key_words) or 1) if key else 0.0
            counts = Counter(c_words)
            score = 0.0
            for w in q_set:
                tf = counts.get(w, 0)
                if tf:
                    score += self._idf(w) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / max(avg_len, 1.0)))
            bm25.append(score)
            numbers = set(NUMBER_RE.findall(candidate.text))
            shared_numbers = len(q_numbers & numbers) / (len(q_numbers) or 1) if q_numbers else 0.0
            source = candidate.source.lower()
            one_hot = [1.0 if source == s else 0.0 for s in SOURCES]
            row = [
                cos_full,
                cos_main,
                cos_asked,
                1.0 if asked else 0.0,
                cos_key,
                cos_value,
                overlap,
                weighted,
                key_overlap,
                shared_numbers,
                1.0 if q_numbers else 0.0,
                math.log1p(length),
                yes_no,
                *one_hot,
                *[yes_no * x for x in one_hot],
                *[cos_main * x for x in one_hot],
                *[cos_asked * x for x in one_hot],
            ]
            if self.config.mode == "attribute":
                row += self._key_features(key, q_vec)
            rows.append(row)
            if self.config.product_dims:
                products.append(q_vec * (m_vec if not key else vec(key)))
        matrix = np.asarray(rows, dtype=np.float64)
        # Relative to the other candidates of the same question: what decides is which one is best.
        relative = []
        for column in (0, 1, 2, 4, 7):
            values = matrix[:, column]
            relative.append(values - values.max())
            relative.append(values - values.mean())
        bm = np.asarray(bm25)
        relative.append(bm / (bm.max() or 1.0))
        order = np.argsort(-matrix[:, 0], kind="stable")
        rank = np.empty(len(order))
        rank[order] = np.arange(len(order))
        relative.append(rank / max(len(order) - 1, 1))
        if self.config.tuned_encoder:
            tuned = self._tuned(question)
            relative += [tuned, tuned - tuned.max(), tuned - tuned.mean()]
        matrix = np.hstack([matrix, np.stack(relative, axis=1)])
        if self.config.product_dims and products:
            matrix = np.hstack([matrix, np.asarray(products, dtype=np.float64)])
        return matrix

    def _key_features(self, key: str, q_vec: np.ndarray) -> list[float]:
        vectors = self.key_questions.get(key)
        if vectors is None or not len(vectors):
            return [0.0, 0.0, 0.0]
        sims = vectors @ q_vec
        return [float(sims.max()), float(np.sort(sims)[-3:].mean()), math.log1p(self.key_counts.get(key, 0))]

    # -- fitting ------------------------------------------------------------------------------

    def _fit_keys(self, questions: Sequence[Question], vec: EmbeddingCache) -> None:
        grouped: dict[str, list[np.ndarray]] = {}
        for question in questions:
            for candidate, label in zip(question.candidates, question.labels or [], strict=False):
                key = attribute_key(candidate.text)
                if key and label >= 1:
                    grouped.setdefault(key, []).append(vec(question.text))
        self.key_questions = {k: np.asarray(v, dtype=np.float32) for k, v in grouped.items()}
        self.key_counts = {k: len(v) for k, v in grouped.items()}

    def _design(
        self, questions: Sequence[Question], vec: EmbeddingCache, *, leave_own_out: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        blocks, targets, groups = [], [], []
        for index, question in enumerate(questions):
            if leave_own_out and self.config.mode == "attribute":
                saved = self._without(question, vec)
            matrix = self.features(question, vec)
            if leave_own_out and self.config.mode == "attribute":
                self.key_questions, self.key_counts = saved
            blocks.append(matrix)
            top = 2 if self.config.mode == "evidence" else 1
            partial = self.config.partial_weight
            targets += [
                1.0 if label >= top else (partial if label >= 1 else 0.0)
                for label in (question.labels or [0] * len(matrix))
            ]
            groups += [index] * len(matrix)
        return np.vstack(blocks), np.asarray(targets), np.asarray(groups)

    def _without(self, question: Question, vec: EmbeddingCache) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        """Hide this training question from the attribute statistics while its own features are built
        (else each training question would find itself there and the weights would trust it too much)."""
        saved = (self.key_questions, self.key_counts)
        q_vec = vec(question.text)
        keys, counts = dict(self.key_questions), dict(self.key_counts)
        for candidate, label in zip(question.candidates, question.labels or [], strict=False):
            key = attribute_key(candidate.text)
            if key and label >= 1 and key in keys:
                vectors = keys[key]
                same = np.where(np.abs(vectors @ q_vec - 1.0) < 1e-5)[0]
                if len(same):
                    vectors = np.delete(vectors, same[0], axis=0)
                keys[key] = vectors
                counts[key] = max(0, counts[key] - 1)
        self.key_questions, self.key_counts = keys, counts
        return saved

    def _fit_weights(self, x: np.ndarray, y: np.ndarray) -> None:
        self.mean = x.mean(axis=0)
        self.scale = x.std(axis=0) + 1e-6
        z = (x - self.mean) / self.scale
        if self.config.model == "mlp":
            from sklearn.neural_network import MLPRegressor

            # Regression on the (0, partial, 1) target with a logistic output read back as a probability.
            mlp = MLPRegressor(
                hidden_layer_sizes=(self.config.hidden,),
                alpha=1.0 / max(self.config.C, 1e-6),
                max_iter=400,
                early_stopping=False,
                random_state=0,
            )
            mlp.fit(z, y)
            self.hidden_w, self.hidden_b = mlp.coefs_[0], mlp.intercepts_[0]
            self.coef = mlp.coefs_[1][:, 0].astype(np.float64)
            self.intercept = float(mlp.intercepts_[1][0])
            return
        from sklearn.linear_model import LogisticRegression

        binary = (y >= 0.5).astype(int)
        weights = np.where(binary == 1, 1.0, 1.0 - y)  # a "helps" candidate is a weaker negative
        model = LogisticRegression(C=self.config.C, max_iter=2000)
        model.fit(z, binary, sample_weight=weights)
        self.coef = model.coef_[0].astype(np.float64)
        self.intercept = float(model.intercept_[0])

    def _raw(self, z: np.ndarray) -> np.ndarray:
        if self.config.model == "mlp" and self.hidden_w is not None and self.hidden_b is not None:
            h = np.maximum(z @ self.hidden_w + self.hidden_b, 0.0)
            out = h @ self.coef + self.intercept
            return 1.0 / (1.0 + np.exp(-8.0 * (out - 0.5)))
        return 1.0 / (1.0 + np.exp(-(z @ self.coef + self.intercept)))

    def fit(
        self, questions: Sequence[Question], embed: Embed | EmbeddingCache, *, folds: int = 5, tuned: Any = None
    ) -> QARanker:
        """Fit on labelled questions; choose the answerability threshold on ``folds`` held-out folds.

        With ``config.tuned_encoder``, ``tuned`` is an unfitted ``tuned_encoder.TunedEncoder``: it is
        fitted here on the same questions, and its out-of-half scores are what the weights learn from."""
        vec = embed if isinstance(embed, EmbeddingCache) else EmbeddingCache(embed)
        labelled = [q for q in questions if q.labels is not None and q.candidates]
        if len(labelled) < 10:
            raise ValueError(f"Need at least 10 labelled questions to fit the ranker, got {len(labelled)}.")
        if self.config.tuned_encoder:
            if tuned is None:
                raise ValueError("config.tuned_encoder needs a tuned encoder to fit.")
            self.tuned = tuned
            self.tuned_scores = tuned.cross_fit(labelled)
        vec.fill([t for q in labelled for t in self.texts_to_embed(q)])
        self.fit_vocabulary(labelled)
        # Held-out top scores for the threshold: fit on k-1 folds, score the k-th.
        tops: list[tuple[float, bool, bool]] = []
        order = sorted(labelled, key=lambda q: hashlib.sha1(q.qid.encode()).hexdigest())
        for fold in range(folds):
            train = [q for i, q in enumerate(order) if i % folds != fold]
            held = [q for i, q in enumerate(order) if i % folds == fold]
            part = QARanker(
                config=self.config, idf=self.idf, default_idf=self.default_idf, tuned_scores=self.tuned_scores
            )
            part._fit_on(train, vec)
            for question in held:
                scores = part.score(question, vec)
                best = int(np.argmax(scores))
                top_label = (question.labels or [])[best]
                answerable = max(question.labels or [0]) >= (2 if self.config.mode == "evidence" else 1)
                tops.append(
                    (float(scores[best]), top_label >= (2 if self.config.mode == "evidence" else 1), answerable)
                )
        self.threshold, self.report = choose_threshold(tops, self.config.target_precision)
        self._fit_on(labelled, vec)
        self.tuned_scores = {}  # from now on every question is scored by the fitted tuned encoder
        return self

    def _fit_on(self, questions: Sequence[Question], vec: EmbeddingCache) -> None:
        if self.config.mode == "attribute":
            self._fit_keys(questions, vec)
        x, y, _ = self._design(questions, vec, leave_own_out=True)
        self._fit_weights(x, y)

    # -- use ----------------------------------------------------------------------------------

    def score(self, question: Question, embed: Embed | EmbeddingCache) -> np.ndarray:
        """The probability that each candidate fully answers the question."""
        if self.coef is None or self.mean is None or self.scale is None:
            raise RuntimeError("The ranker is not fitted.")
        if not question.candidates:
            return np.zeros(0)
        vec = embed if isinstance(embed, EmbeddingCache) else EmbeddingCache(embed)
        vec.fill(self.texts_to_embed(question))
        return self._raw((self.features(question, vec) - self.mean) / self.scale)

    def rank(self, question: Question, embed: Embed | EmbeddingCache) -> tuple[list[int], np.ndarray, bool]:
        """(candidate positions best first, scores, whether the best one answers the question)."""
        scores = self.score(question, embed)
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        answered = bool(order) and float(scores[order[0]]) >= self.threshold
        return order, scores, answered

    # -- storage ------------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        if self.coef is None or self.mean is None or self.scale is None:
            raise RuntimeError("The ranker is not fitted.")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.key_questions)
        arrays: dict[str, np.ndarray] = {
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
        }
        if self.hidden_w is not None and self.hidden_b is not None:
            arrays["hidden_w"], arrays["hidden_b"] = self.hidden_w, self.hidden_b
        for i, key in enumerate(keys):
            arrays[f"key_{i}"] = self.key_questions[key]
        path = directory / RANKER_FILE
        tmp = directory / (RANKER_FILE + ".tmp")
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
        tmp.replace(path)
        meta = {
            "format": FORMAT,
            "config": self.config.__dict__,
            "intercept": self.intercept,
            "threshold": self.threshold,
            "idf": self.idf,
            "default_idf": self.default_idf,
            "keys": keys,
            "key_counts": self.key_counts,
            "embedder": self.embedder_id,
            "report": self.report,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        (directory / RANKER_META).write_text(json.dumps(meta, indent=1))
        if self.tuned is not None:
            self.tuned.save(directory)
        return path

    @classmethod
    def load(cls, directory: str | Path, *, base_path: str | Path | None = None) -> QARanker:
        """The saved ranker; with a tuned encoder, its top layers over ``base_path`` (default: the bundled
        MiniLM), which imports torch: the worker loads it, never the web process."""
        directory = Path(directory)
        path = directory / RANKER_FILE
        meta = read_checked_meta(path, directory / RANKER_META, FORMAT, "question ranker")
        with np.load(path, allow_pickle=False) as arrays:
            ranker = cls(
                config=RankerConfig(**meta["config"]),
                mean=arrays["mean"],
                scale=arrays["scale"],
                coef=arrays["coef"],
                hidden_w=arrays["hidden_w"] if "hidden_w" in arrays.files else None,
                hidden_b=arrays["hidden_b"] if "hidden_b" in arrays.files else None,
                intercept=float(meta["intercept"]),
                threshold=float(meta["threshold"]),
                idf={str(k): float(v) for k, v in meta["idf"].items()},
                default_idf=float(meta["default_idf"]),
                key_questions={k: arrays[f"key_{i}"] for i, k in enumerate(meta["keys"])},
                key_counts={str(k): int(v) for k, v in meta["key_counts"].items()},
                embedder_id=str(meta.get("embedder") or ""),
                report=dict(meta.get("report") or {}),
            )
        if ranker.config.tuned_encoder:
            from .tuned_encoder import TunedEncoder

            if base_path is None:
                from ..llm.embeddings import bundled_model_path

                base_path = bundled_model_path()
            ranker.tuned = TunedEncoder.load(directory, base_path)
        return ranker


def choose_threshold(tops: Sequence[tuple[float, bool, bool]], target: float) -> tuple[float, dict[str, Any]]:
    """The lowest top score at which the answered questions are right at least ``target`` of the time.

    ``tops`` holds, per held-out question, (best score, best candidate answers, question answerable).
    Walking down from the most confident question, the threshold is the last point where the
    running precision is still at the target (so coverage is as large as that precision allows).
    """
    ranked = sorted(tops, key=lambda t: -t[0])
    answerable = sum(1 for t in ranked if t[2]) or 1
    right = covered = 0
    best = (ranked[0][0] + 1e-9 if ranked else 1.0, 0.0, 1.0)
    for n, (score, correct, can) in enumerate(ranked, start=1):
        right += int(correct)
        covered += int(can)
        precision = right / n
        if precision >= target and n >= 5:
            best = (score, covered / answerable, precision)
    threshold, coverage, precision = best
    return float(threshold), {
        "held_out_questions": len(ranked),
        "threshold": round(float(threshold), 4),
        "held_out_precision": round(precision, 4),
        "held_out_coverage": round(coverage, 4),
    }
