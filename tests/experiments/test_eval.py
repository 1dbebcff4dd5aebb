"""``oscar_llm_eval experiments --simulate N``: the summary the evaluation reads, on a smaller simulation."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def test_simulation_summary_and_rows(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    stdout = StringIO()
    call_command("oscar_llm_eval", "experiments", "--simulate", "400", "--out", str(out), "--seed", "3", stdout=stdout)
    summary = json.loads(stdout.getvalue().strip().splitlines()[-1])
    for key in (
        "aa_false_positive_rate",
        "naive_false_positive_rate",
        "power_10pct_lift",
        "srm_detection_rate",
        "bandit_regret_vs_oracle",
        "fixed_split_regret_vs_oracle",
    ):
        assert isinstance(summary[key], float), key
    # the sequential test holds its error rate under daily looks, naive peeking does not
    assert summary["aa_false_positive_rate"] <= 0.05
    assert summary["naive_false_positive_rate"] >= 0.12
    assert summary["power_10pct_lift"] > 0.3
    assert summary["srm_detection_rate"] >= 0.95 and summary["srm_false_alarm_rate"] <= 0.02
    assert summary["bandit_regret_vs_oracle"] < summary["fixed_split_regret_vs_oracle"]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 400
    assert sum(r["aa_sequential_significant"] for r in rows) / 400 == summary["aa_false_positive_rate"]


def test_simulation_rejects_bad_arguments() -> None:
    with pytest.raises(CommandError):
        call_command("oscar_llm_eval", "experiments", "--simulate", "0", stdout=StringIO())
