"""The evidence ranker, the evaluation command's interface, and what written answers may state."""

from __future__ import annotations

import csv
import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from oscar_llm.qa.answers import QuoteWriter, check_answer
from oscar_llm.qa.ranker import QARanker
from tests.conftest import DATA_DIR

TOPICS = [
    ("what material is it made of", "material: cotton", "the strap is black"),
    ("how long is the battery life", "the battery lasts 10 hours", "it comes in a gift box"),
    ("is it waterproof", "it is waterproof to 50 metres", "the buckle is silver"),
    ("what size is the screen", "the screen is 6 inches", "the cable is white"),
    ("does it come with a charger", "a charger is included in the box", "the colour is navy"),
    ("can it be machine washed", "machine washable at 30 degrees", "made in portugal"),
    ("how heavy is it", "it weighs 200 grams", "the lid is red"),
    ("what colour is it", "colour: navy blue", "the battery lasts 3 days"),
]


def synthetic_epqa(path, n_questions: int = 40) -> None:
    """ePQA-format rows: each question has its answering candidate among unrelated ones."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["qid", "question", "ASIN", "candidate", "source", "qa_pair_id", "title", "label", "answer"])
        pair = 0
        for qid in range(n_questions):
            question, answer, _ = TOPICS[qid % len(TOPICS)]
            for k, (_, _other, filler) in enumerate(TOPICS):
                text = answer if k == qid % len(TOPICS) else filler
                label = 2 if text == answer else 0
                source = "attribute" if ":" in text else "review"
                writer.writerow([qid, f"{question} (item {qid})?", "B0", text, source, pair, "t", label, ""])
                pair += 1


def test_the_eval_command_writes_one_line_per_question_and_a_summary(tmp_path, db):
    data = tmp_path / "epqa.csv"
    synthetic_epqa(data)
    out = tmp_path / "results.jsonl"
    stdout = StringIO()
    call_command("oscar_llm_eval", "qa", "--train", str(data), "--epqa", str(data), "--out", str(out), stdout=stdout)
    summary = json.loads(stdout.getvalue().strip().splitlines()[-1])
    assert summary["questions"] == 40 and set(summary) >= {
        "p_at_1",
        "answer_precision",
        "coverage",
        "questions_per_second",
    }
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 40
    for line in lines:
        assert set(line) >= {"qid", "ranked", "answered", "evidence", "answer"}
        assert len(line["ranked"]) == len(TOPICS)
        assert (line["evidence"] is None) == (not line["answered"]) == (line["answer"] is None)
    # The synthetic answers are easy: the ranker puts them first.
    assert summary["p_at_1"] >= 0.9


def test_the_ranker_survives_saving_without_pickle(tmp_path):
    from oscar_llm.llm.registry import get_embedder
    from oscar_llm.qa.datasets import read_questions

    data = tmp_path / "epqa.csv"
    synthetic_epqa(data, 20)
    questions, _ = read_questions(data, "epqa", with_labels=True)
    embedder = get_embedder()

    def embed(texts):
        import numpy as np

        return np.asarray(embedder.embed(list(texts)))

    ranker = QARanker().fit(questions, embed)
    ranker.save(tmp_path / "ranker")
    loaded = QARanker.load(tmp_path / "ranker")
    for question in questions[:5]:
        assert ranker.rank(question, embed)[0] == loaded.rank(question, embed)[0]
    # A tampered archive is refused.
    archive = tmp_path / "ranker" / "qa_ranker.npz"
    archive.write_bytes(archive.read_bytes() + b"x")
    with pytest.raises(ValueError):
        QARanker.load(tmp_path / "ranker")


NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in NUMBER.findall(text)}


@pytest.mark.data
def test_written_answers_state_no_number_missing_from_question_and_evidence():
    """An independent check (its own number pattern, not the guardrails') over every hetPQA dev row."""
    with open(DATA_DIR / "qa" / "hetpqa_answers_dev.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    writer = QuoteWriter()
    answers = writer.write_many([(r["question"], r["candidate"], r["source"].lower()) for r in rows])
    assert len(answers) == len(rows) > 300
    for row, answer in zip(rows, answers, strict=True):
        allowed = _numbers(row["question"]) | _numbers(row["candidate"])
        assert _numbers(answer) <= allowed, (answer, row["candidate"])


def test_the_answer_check_refuses_invented_numbers_markup_and_broken_language():
    evidence = "The battery lasts 10 hours."
    assert check_answer("It lasts 10 hours.", question="How long?", evidence=evidence).passed
    assert not check_answer("It lasts 12 hours.", question="How long?", evidence=evidence).passed
    assert not check_answer("It lasts <b>10</b> hours.", question="How long?", evidence=evidence).passed
    assert not check_answer("It it lasts the the 10 hours.", question="How long?", evidence=evidence).passed
    assert not check_answer("We guarantee a refund.", question="How long?", evidence=evidence).passed


# Questions whose words a useless candidate repeats: word overlap and MiniLM cosine favour the echo,
# the labels say the answer; only a model fitted on the labels ranks the answer first.
ECHO_TOPICS = [
    ("how long does the battery last", "the battery lasts 10 hours on one charge"),
    ("is the jacket waterproof", "it kept me dry in heavy rain all day"),
    ("what is the strap made of", "the strap is soft leather"),
    ("does it fit a 15 inch laptop", "my 15 inch laptop fits with room to spare"),
    ("can i wash the cover", "the cover goes in the washing machine"),
    ("how heavy is the kettle", "it weighs about one kilogram empty"),
    ("what colour is the lid", "the lid is dark red"),
    ("does the lamp need batteries", "it runs on two aa batteries"),
]


def echo_questions(n: int, offset: int = 0) -> list:
    from oscar_llm.qa.ranker import Candidate, Question

    questions = []
    for k in range(offset, offset + n):
        text, answer = ECHO_TOPICS[k % len(ECHO_TOPICS)]
        other = ECHO_TOPICS[(k + 3) % len(ECHO_TOPICS)][1]
        candidates = [
            Candidate(f"i also want to know {text}", "review"),
            Candidate(answer, "review"),
            Candidate(other, "review"),
            Candidate(f"{text}? no idea", "review"),
        ]
        questions.append(Question(f"e{k}", f"{text} (number {k})?", candidates, [0, 2, 0, 0]))
    return questions


def _vec():
    import numpy as np

    from oscar_llm.llm.registry import get_embedder
    from oscar_llm.qa.ranker import EmbeddingCache

    embedder = get_embedder()
    return EmbeddingCache(lambda texts: np.asarray(embedder.embed(list(texts))))


@pytest.mark.parametrize("kind", ["bi", "cross"])
def test_the_tuned_encoder_learns_from_the_labels_what_cosine_gets_wrong(kind, tmp_path):
    from oscar_llm.llm.embeddings import bundled_model_path
    from oscar_llm.qa.ranker import RankerConfig
    from oscar_llm.qa.tuned_encoder import FrozenLayers, TunedEncoder, TunedEncoderConfig

    frozen = FrozenLayers(bundled_model_path(), TunedEncoderConfig(kind=kind, epochs=10, learning_rate=1e-3, threads=1))
    vec = _vec()
    train, held = echo_questions(32), echo_questions(8, offset=100)
    # Cosine alone prefers a candidate that repeats the question.
    assert sum(int(max(range(4), key=lambda i: float(vec(q.text) @ vec(q.candidates[i].text))) == 1) for q in held) < 4
    tuned = TunedEncoder(frozen)
    out_of_half = tuned.cross_fit(train)
    assert set(out_of_half) == {q.qid for q in train} and len(tuned.tops) == 2
    assert sum(int(out_of_half[q.qid].argmax() == 1) for q in train) >= 28
    assert sum(int(tuned.score(q).argmax() == 1) for q in held) >= 7
    # Through the ranker: its weights learn from the out-of-half scores, it saves without pickle.
    ranker = QARanker(config=RankerConfig(tuned_encoder=True))
    ranker.fit(train, vec, tuned=TunedEncoder(frozen))
    assert ranker.tuned_scores == {}
    assert sum(int(ranker.rank(q, vec)[0][0] == 1) for q in held) >= 7
    ranker.save(tmp_path / "ranker")
    loaded = QARanker.load(tmp_path / "ranker")
    for question in held:
        assert loaded.rank(question, vec)[0] == ranker.rank(question, vec)[0]
    archive = tmp_path / "ranker" / "qa_tuned_encoder.safetensors"
    archive.write_bytes(archive.read_bytes()[:-8] + b"x" * 8)
    with pytest.raises(ValueError):
        QARanker.load(tmp_path / "ranker")


def test_a_ranker_with_a_tuned_encoder_is_not_fitted_without_one():
    from oscar_llm.qa.ranker import RankerConfig

    with pytest.raises(ValueError):
        QARanker(config=RankerConfig(tuned_encoder=True)).fit(echo_questions(12), lambda texts: None)


def test_the_train_command_saves_the_ranker_with_its_tuned_encoder_for_the_worker(tmp_path, settings):
    from oscar_llm.qa import services
    from oscar_llm.qa.datasets import read_questions

    data = tmp_path / "epqa.csv"
    synthetic_epqa(data, 20)
    call_command("oscar_llm_train", "--qa-ranker", str(data), "--out", str(tmp_path / "ranker"), stdout=StringIO())
    assert {p.name for p in (tmp_path / "ranker").iterdir()} >= {
        "qa_ranker.npz",
        "qa_ranker.json",
        "qa_tuned_encoder.safetensors",
        "qa_tuned_encoder.json",
    }
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "QA": {"RANKER_DIR": str(tmp_path / "ranker")}}
    services._rankers.clear()
    ranker = services.get_ranker()
    assert ranker is not None and ranker.tuned is not None and len(ranker.tuned.tops) == 2
    questions, _ = read_questions(data, "epqa", with_labels=True)
    vec = _vec()
    assert sum(int(q.labels[ranker.rank(q, vec)[0][0]] == 2) for q in questions) >= 18
    services._rankers.clear()
