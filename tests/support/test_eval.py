"""``oscar_llm_eval support`` end to end: Bitext-format CSVs (of the seed tickets) in, JSONL and a JSON summary out."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.support.helpers import seed_rows, stratified_split, tiny_support_model_dir, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    train, test = stratified_split(seed_rows())
    folder = tmp_path_factory.mktemp("support_eval")
    # The seed's training split fits the triage; 2 held-out tickets of each intent are drafted.
    seen: dict[str, int] = {}
    tickets = []
    for row in test:
        if seen.get(row["intent"], 0) < 2:
            seen[row["intent"]] = seen.get(row["intent"], 0) + 1
            tickets.append(row)
    return write_csv(train, folder / "train.csv"), write_csv(tickets, folder / "tickets.csv"), len(tickets)


def run(*args: str) -> tuple[str, dict]:
    out = io.StringIO()
    call_command("oscar_llm_eval", "support", *args, "-v", "0", stdout=out)
    lines = out.getvalue().strip().splitlines()
    return out.getvalue(), json.loads(lines[-1])


def test_eval_writes_one_record_per_ticket_and_a_summary(csvs, tmp_path, knowledge_base):
    train, tickets, count = csvs
    results = tmp_path / "results.jsonl"
    text, summary = run(
        "--train", str(train), "--tickets", str(tickets), "--out", str(results), "--model", tiny_support_model_dir()
    )
    assert summary["tickets"] == count == 54
    assert summary["intent_accuracy"] >= 0.9
    assert 0 <= summary["drafts_accepted"] <= count
    assert summary["knowledge_base"] == f"KnowledgeArticle ({len(knowledge_base)} active rows)"
    assert summary["articles"] == len(knowledge_base)
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(records) == count
    for record in records:
        assert {"instruction", "predicted_intent", "articles", "draft", "accepted", "reasons"} <= set(record)
        assert record["articles"] and {"id", "title", "score"} <= set(record["articles"][0])
        assert record["accepted"] == (not record["reasons"])
        assert "{{" not in record["draft"] or not record["accepted"]
    assert sum(r["accepted"] for r in records) == summary["drafts_accepted"]
    assert f"{count} tickets" in text.splitlines()[-2]


def test_eval_uses_the_knowledge_articles_in_the_database(csvs, tmp_path):
    from oscar_llm.models import KnowledgeArticle

    train, tickets, _ = csvs
    KnowledgeArticle.objects.create(
        title="Gift cards", slug="gift-cards", body="Gift cards are valid for 24 months.", tags="gift", active=True
    )
    KnowledgeArticle.objects.create(
        title="Old policy", slug="old", body="Returns within 7 days.", tags="returns", active=False
    )
    _, summary = run(
        "--train", str(train), "--tickets", str(tickets), "--limit", "3", "--model", tiny_support_model_dir()
    )
    assert summary["knowledge_base"] == "KnowledgeArticle (1 active rows)" and summary["articles"] == 1
    assert summary["tickets"] == 3


def test_eval_without_knowledge_articles_uses_none(csvs, tmp_path):
    """An empty KnowledgeArticle table is an empty knowledge base: no demo articles stand in for it."""
    train, tickets, _ = csvs
    results = tmp_path / "results.jsonl"
    _, summary = run(
        "--train", str(train), "--tickets", str(tickets), "--limit", "3", "--out", str(results),
        "--model", tiny_support_model_dir(),
    )  # fmt: skip
    assert summary["articles"] == 0 and "no active articles" in summary["knowledge_base"]
    assert summary["tickets"] == 3
    for record in map(json.loads, results.read_text().splitlines()):
        assert record["articles"] == [] and not any(c.get("kind") == "article" for c in record["citations"])


def test_bad_input_gets_a_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,greeting\n")
    with pytest.raises(CommandError, match="not in the Bitext format"):
        call_command(
            "oscar_llm_eval", "support", "--train", str(bad), "--tickets", str(bad), "--model", tiny_support_model_dir()
        )
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "oscar_llm_eval", "support", "--train", str(bad), "--tickets", str(bad), "--model", str(tmp_path / "none")
        )


def test_triage_only_training_fits_the_triage_the_drafter_loads(csvs, settings, tmp_path):
    """A shop with a pretrained or served text model still needs its own ticket triage."""
    from oscar_llm.support.triage import IntentClassifier, default_triage_dir

    train, _tickets, _count = csvs
    settings.OSCAR_LLM = {**getattr(settings, "OSCAR_LLM", {}), "MODEL_DIR": str(tmp_path / "shop_model")}
    out = io.StringIO()
    call_command("oscar_llm_train", "--support", str(train), "--triage-only", "--json", "-v", "0", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["triage_dir"] == str(default_triage_dir()) == str(tmp_path / "shop_model.triage")
    assert not (tmp_path / "shop_model").exists()  # no text model was trained
    ((intent, probability),) = IntentClassifier.load(default_triage_dir()).predict(["I want to cancel my order"])
    assert intent == "cancel_order" and probability > 0.5


def test_triage_only_needs_tickets():
    with pytest.raises(CommandError, match="--support"):
        call_command("oscar_llm_train", "--triage-only")
