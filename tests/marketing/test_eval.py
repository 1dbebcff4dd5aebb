"""``oscar_llm_eval marketing`` end to end: a fashion-format CSV in, one JSON line per email and a summary out."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.content.test_eval import write_catalogue

pytest.importorskip("torch")


def test_eval_marketing_writes_an_email_per_row_and_segment(tiny_model_dir, tmp_path):
    catalogue = tmp_path / "catalogue.csv"
    rows = write_catalogue(catalogue, n=8)
    results = tmp_path / "results.jsonl"
    out = StringIO()
    call_command(
        "oscar_llm_eval",
        "marketing",
        "--catalogue",
        str(catalogue),
        "--model",
        tiny_model_dir,
        "--limit",
        "5",
        "--out",
        str(results),
        "--verbosity",
        "0",
        stdout=out,
    )
    records = [json.loads(line) for line in results.read_text().splitlines()]
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["generated"] == len(records) == 5 * len(summary["segments"])
    assert [r["id"] for r in records[:: len(summary["segments"])]] == [row["id"] for row in rows[:5]]
    for record in records:
        assert {"id", "segment", "facts", "subject", "body", "accepted", "reasons"} <= set(record)
        assert record["accepted"] == (record["reasons"] == [])
        facts = record["facts"]
        assert facts["offer"]["percent"] and facts["dates"]["start"] and facts["prices"]["price"]
        if record["accepted"]:
            assert f"{facts['offer']['percent']}%" in record["subject"] + record["body"]
            assert len(record["subject"]) <= 60
            assert record["audit"] == []
    assert summary["accepted"] == sum(r["accepted"] for r in records)
    assert summary["items_per_second"] > 0
    assert summary["accepted_with_terms_not_in_facts"] == 0 and summary["accepted_contradicting_row"] == 0
    assert out.getvalue().splitlines()[0].startswith("marketing: ")


def test_eval_marketing_refuses_a_missing_file_or_model(tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "oscar_llm_eval", "marketing", "--catalogue", str(tmp_path / "none.csv"), "--model", "/nonexistent"
        )
