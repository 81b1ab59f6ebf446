"""`cohort predict` / `cohort simulate` end to end on the tiny fitted home (conftest)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from cohort.cli import predict
from cohort.engine import OUTCOMES
from cohort.errors import InvalidArgument
from cohort.home import Home
from cohort.versions import Version

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(home, *argv: str) -> int:
    """Parse like `cohort --home HOME ...` with only this module's subcommands."""
    parser = argparse.ArgumentParser(prog="cohort")
    parser.add_argument("--home")
    predict.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["--home", str(home.root), *argv])
    return args.run(args)


@pytest.fixture(scope="module")
def home(fitted_home: tuple[Home, Version]) -> Home:
    return fitted_home[0]


@pytest.fixture()
def small_spec(tmp_path: Path) -> Path:
    raw = json.loads((EXAMPLES / "allo_cd19_lbcl.json").read_text())
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(raw | {"draw_count": 200}))
    return path


def test_examples_parse_and_predict_as_json(home: Home, capsys: pytest.CaptureFixture) -> None:
    for example in sorted(EXAMPLES.glob("*.json")):
        assert _run(home, "predict", str(example), "--json") == 0
        out = json.loads(capsys.readouterr().out)
        assert [o["outcome"] for o in out["outcomes"]] == list(OUTCOMES)
        assert "Research use only" in out["notice"]


def test_table_compare_and_version_flag(home: Home, small_spec: Path,
                                        capsys: pytest.CaptureFixture,
                                        fitted_home: tuple[Home, Version]) -> None:
    version = fitted_home[1].id
    assert _run(home, "predict", str(small_spec), "--version", version) == 0
    text = capsys.readouterr().out
    assert "CRS grade >=3" in text and "Research use only" in text
    assert _run(home, "predict", str(small_spec), "--compare", str(small_spec), "--json") == 0
    contrasts = json.loads(capsys.readouterr().out)["contrasts"]
    assert all(c["difference_mean"] == 0 for c in contrasts)


def test_sweep_writes_a_plot(home: Home, small_spec: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture) -> None:
    plot = tmp_path / "sweep.png"
    assert _run(home, "predict", str(small_spec), "--sweep", "flu_mg_m2_day=10:40:10",
                "--plot", str(plot)) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.count("ld.flu_mg_m2_day = ") == 4


def test_simulate_writes_parquet(home: Home, small_spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "patients.parquet"
    assert _run(home, "simulate", str(small_spec), "--out", str(out)) == 0
    frame = pd.read_parquet(out)
    assert len(frame) == 200 * 30
    assert set(frame["best_response"].astype(str)) <= {"none", "PR", "CR"}
    assert "peak_copies_per_ug" in frame and frame["draw"].max() == 199


def test_bad_spec_and_bad_sweep_are_invalid_arguments(home: Home, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"product": {"name": "nope"}, "disease": "LBCL"}))
    with pytest.raises(InvalidArgument) as error:
        _run(home, "predict", str(bad))
    assert error.value.violations[0].field == "product.name"
    with pytest.raises(InvalidArgument):
        _run(home, "predict", str(EXAMPLES / "axicel_lbcl.json"), "--sweep", "flu=1:2")
