"""The reply library: replies that worked, ranked for a new ticket (docs/architecture.md, "Support drafts").

A draft starts from a reply a person wrote, not from a blank page: the replies
staff saved for an intent, the replies they approved (the learning loop), the
reply patterns the shop wrote per intent (the demo ships its own) and, when a
Bitext-format file is given, its replies. Each entry keeps its intent, the
customer question it answered (so a new ticket is matched question to
question) and its text with ``{{Slot}}`` placeholders where one customer's
facts stood (order number, name, city...), which :mod:`.compose` fills from
this customer's facts.

Ranking (:meth:`ReplyLibrary.rank`) is plain numpy over MiniLM vectors: the
similarity of the ticket to each entry's question, within the ticket's intent;
the agreement of an entry's reply with the replies of the other close
questions (a reply that says what the neighbours say is the safer bet, a
minimum-Bayes-risk choice); and what worked in this shop (a source bonus for
replies staff saved or approved, their approval rate and how little staff had
to edit them). The weights are measured on a validation split of the public
Bitext file (see ``RankWeights``).

No Django, no torch: the Django side (:mod:`.library_store`) turns rows into
:class:`LibraryReply` values and stores the vectors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Where the library's entries come from, most trusted first.
SOURCES = ("saved", "approved", "pattern", "bitext")

# A Bitext row names one entity of the customer's; in its reply that value becomes the slot the
# drafter fills from the next customer's own facts.
ENTITY_SLOTS = {
    "order_id": "Order Number",
    "invoice_id": "Invoice Number",
    "person_name": "Customer Name",
    "delivery_city": "Delivery City",
    "delivery_country": "Delivery Country",
    "refund_amount": "Refund Amount",
    "account_type": "Account Type",
}


@dataclass(frozen=True)
class LibraryReply:
    """One reply of the library, with the question it answered and what it achieved."""

    id: int | str
    intent: str
    text: str  # with {{Slot}} placeholders
    question: str = ""
    source: str = "pattern"
    approvals: int = 0  # drafts from this reply sent unchanged
    edits: int = 0  # drafts from this reply sent after an edit
    rejections: int = 0
    mean_edit: float = 0.0  # share of characters staff changed, over the edited drafts

    @property
    def decided(self) -> int:
        return self.approvals + self.edits + self.rejections

    @property
    def approval_rate(self) -> float:
        """Sent unchanged, of all decided drafts from this reply (0.5 with no history: no evidence either way)."""
        return (self.approvals + 1) / (self.decided + 2)


@dataclass(frozen=True)
class RankWeights:
    """How an entry's score is made up.

    The source bonus puts what this shop wrote or approved before an imported file's reply of
    about the same fit (0.1 is about the spread of question similarity among the close
    neighbours); a reply staff saved for an intent leads it whenever its question is among the
    close ones (1.0 is more than the agreement term can move).

    Measured on a validation split of the public Bitext file (train 80% of its training split,
    validation the other 20%; the held-out test split untouched; 2,013 library replies, 505
    validation tickets), mean MiniLM cosine of the chosen reply to the reference reply: question
    similarity alone 0.826; agreement weight 0.5: 0.834, 1.0: 0.839, 2.0: 0.844, 4.0: 0.842,
    8.0: 0.841 (12 to 48 neighbours change the third decimal only);
    ``bench/bench_support_library.py`` prints the sweep.
    """

    agreement: float = 2.0
    neighbours: int = 12  # the closest questions whose replies vote
    temperature: float = 0.05  # softmax temperature of the vote weights
    source_bonus: Mapping[str, float] = field(
        default_factory=lambda: {"saved": 1.0, "approved": 0.1, "pattern": 0.1, "bitext": 0.0}
    )
    approval: float = 0.1  # times (approval rate - 0.5)
    edit_penalty: float = 0.1  # times the mean share edited


@dataclass
class Ranked:
    reply: LibraryReply
    score: float
    similarity: float  # of the ticket to the entry's question
    agreement: float
    index: int = -1  # the entry's row in the library's vectors


SLOT_RE = re.compile(r"\{\{\s*([^{}]{1,60}?)\s*\}\}")


def slots_of(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(1) for m in SLOT_RE.finditer(text)))


ACCOUNT_NOUN = r"(?=[\s-]+(?:\w+\s+)?(?:account|plan|membership|subscription|tier|member)s?\b)"
# An order or invoice number another customer's reply names ("cancel order 00004587345"; Bitext's replies
# often carry a number other than their row's entity value): the slot it stands for, by the word before it.
REFERENCE_NUMBER_RE = re.compile(r"(?<![\w{.+-])\d{5,}(?![\w}-]|[.,]\d)")
REFERENCE_WORD_RE = re.compile(r"\b(?:(invoice|bill)|(order|purchase))", re.I)


def _reference_slot(text: str, start: int) -> str | None:
    words = list(REFERENCE_WORD_RE.finditer(text[max(0, start - 60) : start]))
    if not words:
        return None
    return "Invoice Number" if words[-1].group(1) else "Order Number"


def generalise_reply(text: str, entity_type: str = "", entity_value: str = "") -> str:
    """A reply with the customer's entity value (order number, name, city...) turned into its slot, and any
    other order or invoice number it names too."""
    value = (entity_value or "").strip()
    slot = ENTITY_SLOTS.get((entity_type or "").strip())
    if slot and len(value) >= 2:
        # An account type is a common word ("free", "pro", "standard"): only where it names an account.
        after = ACCOUNT_NOUN if slot == "Account Type" else ""
        text = re.sub(rf"(?<![\w]){re.escape(value)}(?![\w]){after}", "{{" + slot + "}}", text)
    return generalise_references(text)


def generalise_references(text: str) -> str:
    """Every order or invoice number ``text`` names (5 digits or more, after "order", "purchase", "invoice"
    or "bill") turned into ``{{Order Number}}`` or ``{{Invoice Number}}``."""

    def to_slot(match: re.Match[str]) -> str:
        name = _reference_slot(text, match.start())
        return "{{" + name + "}}" if name else match.group(0)

    return REFERENCE_NUMBER_RE.sub(to_slot, text)


def replies_from_rows(rows: Iterable[Mapping[str, str]], *, source: str = "bitext") -> list[LibraryReply]:
    """Library entries from Bitext-format rows (``instruction, intent, response, entity_type, entity_value``)."""
    entries = []
    for i, row in enumerate(rows):
        question = (row.get("instruction") or "").strip()
        reply = (row.get("response") or "").strip()
        intent = (row.get("intent") or "").strip()
        if not (question and reply and intent):
            continue
        text = generalise_reply(reply, row.get("entity_type", ""), row.get("entity_value", ""))
        entries.append(LibraryReply(id=f"{source}:{i}", intent=intent, text=text, question=question, source=source))
    return entries


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def question_vectors(questions: Sequence[str], embedder: Any) -> np.ndarray:
    """One vector per entry: of its example message, or the mean of several (one per line, as patterns have)."""
    lines_of = [[line.strip() for line in q.split("\n") if line.strip()] or [q] for q in questions]
    flat = [line for lines in lines_of for line in lines]
    vectors = np.asarray(embedder.embed(flat), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    out, start = [], 0
    for lines in lines_of:
        mean = vectors[start : start + len(lines)].mean(axis=0)
        out.append(mean / max(float(np.linalg.norm(mean)), 1e-9))
        start += len(lines)
    return np.asarray(out, dtype=np.float32)


class ReplyLibrary:
    """Entries with the vectors of their questions and replies (unit length)."""

    def __init__(
        self,
        replies: Sequence[LibraryReply],
        *,
        question_vectors: np.ndarray | None = None,
        reply_vectors: np.ndarray | None = None,
        embedder: Any = None,
        weights: RankWeights | None = None,
    ) -> None:
        self.replies = list(replies)
        self.weights = weights or RankWeights()
        n = len(self.replies)
        if n and (question_vectors is None or reply_vectors is None):
            if embedder is None:
                raise ValueError("An embedder is needed to embed library entries without vectors.")
            if question_vectors is None:
                question_vectors = embedder.embed([r.question or r.text for r in self.replies])
            if reply_vectors is None:
                reply_vectors = embedder.embed([r.text for r in self.replies])
        dim = 1
        self.question_vectors = _unit(question_vectors) if n else np.zeros((0, dim), dtype=np.float32)
        self.reply_vectors = _unit(reply_vectors) if n else np.zeros((0, dim), dtype=np.float32)
        if n and (len(self.question_vectors) != n or len(self.reply_vectors) != n):
            raise ValueError(f"{n} library entries but {len(self.question_vectors)}/{len(self.reply_vectors)} vectors.")
        self._by_intent: dict[str, np.ndarray] = {}
        for i, reply in enumerate(self.replies):
            self._by_intent.setdefault(reply.intent, []).append(i)  # type: ignore[arg-type]
        self._by_intent = {k: np.asarray(v) for k, v in self._by_intent.items()}

    def __len__(self) -> int:
        return len(self.replies)

    def _neighbours(self, query_vector: np.ndarray, intent: str, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(entry indexes, their question similarity, their vote weights): the closest questions of ``intent``."""
        w = self.weights
        pool = self._by_intent.get(intent)
        if pool is None or not len(pool):
            pool = np.arange(len(self.replies))
        query = _unit(query_vector)[0]
        similarity = self.question_vectors[pool] @ query
        order = np.argsort(-similarity, kind="stable")[: max(k, w.neighbours)]
        near_similarity = similarity[order]
        votes = np.exp((near_similarity - near_similarity.max()) / max(w.temperature, 1e-6))
        return pool[order], near_similarity, votes

    def consensus(self, query_vector: np.ndarray, intent: str) -> np.ndarray:
        """The reply the close questions' replies agree on, as a unit vector: their mean, each weighted by
        how close its question is to the ticket. A draft adapted from the library is judged against it
        (docs/architecture.md, "Support drafts")."""
        if not self.replies:
            return np.zeros(self.reply_vectors.shape[1], dtype=np.float32)
        near, _similarity, votes = self._neighbours(query_vector, intent, self.weights.neighbours)
        return _unit(votes @ self.reply_vectors[near])[0]

    def rank(self, query_vector: np.ndarray, intent: str, k: int = 5) -> list[Ranked]:
        """The ``k`` best entries for a ticket of ``intent`` (entries of other intents only when it has none)."""
        if not self.replies:
            return []
        w = self.weights
        near, near_similarity, votes = self._neighbours(query_vector, intent, k)
        # The neighbours' replies vote: agreement of each candidate reply with the others,
        # weighted by how close each voter's question is to the ticket.
        replies = self.reply_vectors[near]
        agreement_matrix = replies @ replies.T
        np.fill_diagonal(agreement_matrix, 0.0)
        weight_sum = votes.sum() - votes  # each candidate's own vote left out
        agreement = (agreement_matrix @ votes) / np.where(weight_sum > 0, weight_sum, 1.0)
        if len(near) == 1:
            agreement = np.ones(1, dtype=np.float32)
        ranked = []
        for index, sim, agree in zip(near, near_similarity, agreement, strict=True):
            reply = self.replies[int(index)]
            score = float(sim) + w.agreement * float(agree)
            score += w.source_bonus.get(reply.source, 0.0)
            score += w.approval * (reply.approval_rate - 0.5) - w.edit_penalty * reply.mean_edit
            ranked.append(
                Ranked(reply=reply, score=score, similarity=float(sim), agreement=float(agree), index=int(index))
            )
        ranked.sort(key=lambda r: -r.score)
        # One entry per distinct text: patterns repeat the same reply for many questions.
        seen: set[str] = set()
        distinct = []
        for item in ranked:
            key = " ".join(item.reply.text.split()).lower()
            if key not in seen:
                seen.add(key)
                distinct.append(item)
        return distinct[:k]
