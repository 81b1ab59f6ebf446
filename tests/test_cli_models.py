"""`cohort fit` / `cohort models ...` through the real entry point and real versions."""

from __future__ import annotations

import json
from pathlib import Path

import arviz as az
import pytest

from cohort import operations
from cohort.cli import main
from cohort.home import Home
from cohort.versions import Version, serving_version
from cohort.workflow import SNAPSHOT_FILE, load_fitted


def test_fit_without_a_passing_gate_writes_a_failed_version_and_does_not_promote(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    home = tmp_path / "home"
    code = main(["--home", str(home), "fit", "--chains", "2", "--warmup", "150",
                 "--samples", "100", "--seed", "1"])
    out = capsys.readouterr()
    assert code == 3, out.err
    assert "FAILED" in out.out and "gate: " in out.out
    assert "warmup" in out.err and "sampling" in out.err  # progress was shown
    assert serving_version(Home.resolve(home).models_dir) is None
    [version] = [p for p in (home / "models").iterdir() if p.is_dir()]
    posterior = az.from_netcdf(version / "posterior.nc")
    assert {"posterior", "sample_stats", "log_likelihood"} <= set(posterior.groups())
    assert main(["--home", str(home), "models", "promote", version.name]) == 2
    assert "FAILED" in capsys.readouterr().err


def test_models_list_show_and_plot(fitted_home: tuple[Home, Version], tmp_path: Path,
                                   capsys: pytest.CaptureFixture) -> None:
    home, version = fitted_home
    assert main(["--home", str(home.root), "models", "list"]) == 0
    listing = capsys.readouterr().out
    assert version.id in listing and "*" in listing
    plot = tmp_path / "forest.png"
    assert main(["--home", str(home.root), "models", "show", "--plot", str(plot)]) == 0
    shown = capsys.readouterr().out
    assert "expansion → response" in shown and "flu → expansion" in shown
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"


def test_a_version_is_self_contained(fitted_home: tuple[Home, Version]) -> None:
    home, version = fitted_home
    fitted = load_fitted(home)
    assert fitted.version.id == version.id
    snapshot = json.loads(version.file(SNAPSHOT_FILE).read_bytes())
    assert len(snapshot["arms"]) == 39
    assert version.manifest["snapshot_hash"] == version.manifest["files"][SNAPSHOT_FILE]
    assert len(fitted.data.index.products) == len(version.manifest["products"])


def test_bad_fit_settings_are_named_and_nothing_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    home = tmp_path / "home"
    code = main(["--home", str(home), "fit", "--chains", "0", "--samples", "-5"])
    err = capsys.readouterr().err
    assert code == 2
    assert "num_chains" in err and "num_samples" in err and "Traceback" not in err
    assert not (home / "models").exists() or not any((home / "models").iterdir())


def test_a_promoting_fit_is_refused_while_another_fit_holds_the_home(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`cohort fit` takes the home's fit lock, so it cannot race a server's refit (or a
    first fit) to the serving alias: refused at once, naming why, nothing written."""
    home = Home.resolve(tmp_path / "home")
    elsewhere = operations.FitLock(operations.open_dir(home.operations_dir))
    assert elsewhere.acquire()  # another descriptor: flock sees another owner
    try:
        code = main(["--home", str(home.root), "fit", "--chains", "2", "--warmup", "150",
                     "--samples", "100"])
    finally:
        elsewhere.release()
    err = capsys.readouterr().err
    assert code == 1, err
    assert "error (CONFLICT): another fit is running on this home" in err
    assert not home.models_dir.exists() or not any(home.models_dir.iterdir())
