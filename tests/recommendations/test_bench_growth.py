"""bench/bench_growth.py at a tiny size, through the same subprocess and code as its big sizes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_growth.py"


def test_one_size_runs_in_its_own_process_and_prints_its_json_line(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--mode",
            "engine",
            "--sizes",
            "500x5000",
            "--engine-config",
            '{"seq_model": false}',
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    result = lines[0]
    assert (result["products"], result["events"], result["visitors"]) == (500, 5000, 500)
    assert "failed" not in result
    # The engine was fitted on the synthetic histories (enough of them to tune the blend and learn EASE).
    assert result["fit_report"]["model"] == "blend" and result["fit_report"]["ease"]["items"] > 100
    assert result["fit_report"]["validation"]["users"] == 100
    assert set(result["phases"]) == {"build arrays", "engine fit", "save", "load"}
    assert 0 < result["phases"]["engine fit"]["peak_mb"] <= result["peak_rss_mb"]
    assert all(ms > 0 for ms in result["per_list"].values())
    # The README's table is printed from the same lines.
    (tmp_path / "growth.jsonl").write_text(out.stdout)
    table = subprocess.run(
        [sys.executable, str(BENCH), "--table", str(tmp_path / "growth.jsonl")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "| 500 | 5,000 | engine |" in table
