"""`cohort data ...` end to end through the real console entry point and a real store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cohort.cli import main
from tests.test_validation import bundled_raw


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cohort", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120)


def new_arms(tmp_path: Path, rows: int = 3) -> Path:
    arms = bundled_raw("arms").iloc[:rows].copy()
    arms["arm_id"] = [f"NEW_{i}" for i in range(rows)]
    path = tmp_path / "new_arms.csv"
    arms.to_csv(path, index=False)
    return path


def test_validate_prints_all_five_injected_cells_and_exits_nonzero(tmp_path: Path) -> None:
    arms = bundled_raw("arms").assign(arm_id=lambda f: "NEW_" + f["arm_id"])
    bad = {(0, "n_cr"): "x", (1, "disease"): "DLBCL", (2, "n_crs_g3"): "99",
           (3, "peak_unit"): "ng/mL", (4, "anti_cd52"): "yes"}
    for (row, column), value in bad.items():
        arms.loc[row, column] = value
    path = tmp_path / "arms.csv"
    arms.to_csv(path, index=False)
    result = run_cli(tmp_path / "home", "data", "validate", str(path))
    assert result.returncode == 2, result.stderr
    lines = [line.split() for line in result.stderr.splitlines()[2:]]
    assert [(int(line[1]) - 1, line[2]) for line in lines] == list(bad)
    assert "5 problem(s)" in result.stderr


def test_ingest_list_snapshot_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    home = str(tmp_path / "home")
    path = new_arms(tmp_path)
    assert main(["--home", home, "data", "snapshot", "--json"]) == 0
    before = capsys.readouterr().out
    assert main(["--home", home, "data", "ingest", str(path), "--request-id", "r1"]) == 0
    assert "stored: submission 1" in capsys.readouterr().out
    assert main(["--home", home, "data", "ingest", str(path), "--request-id", "r1"]) == 0
    assert "already stored" in capsys.readouterr().out
    assert main(["--home", home, "data", "list"]) == 0
    ledger = capsys.readouterr().out.splitlines()
    assert len(ledger) == 2 and ledger[1].split()[:2] == ["1", "r1"]
    assert main(["--home", home, "data", "snapshot", "--export", str(tmp_path / "snap")]) == 0
    after = capsys.readouterr().out
    assert '"arms": 39' in before and "arms 42" in after
    assert pd.read_csv(tmp_path / "snap" / "arms.csv").shape[0] == 42


def test_reused_request_id_with_other_data_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first, second = new_arms(tmp_path, 2), tmp_path / "other_arms.csv"
    pd.read_csv(first, dtype=str).assign(n_treated="50").to_csv(second, index=False)
    assert run_cli(home, "data", "ingest", str(first), "--request-id", "r1").returncode == 0
    refused = run_cli(home, "data", "ingest", str(second), "--request-id", "r1")
    assert refused.returncode == 1 and "CONFLICT" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_summary_runs_on_an_empty_home(tmp_path: Path) -> None:
    result = run_cli(tmp_path / "home", "data", "summary")
    assert result.returncode == 0, result.stderr
    assert "arms 39" in result.stdout and "Research use only" in result.stdout
    orr = next(line for line in result.stdout.splitlines() if line.strip().startswith("ORR"))
    assert float(orr.split()[-1]) == pytest.approx(0.70, abs=0.15)
