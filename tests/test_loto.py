"""Leave-one-trial-out: the scoring pieces exactly, and one real refit end to end."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cohort.bundled import bundled_dataset
from cohort.dataset import Dataset
from cohort.fit import load_warm_start
from cohort.home import Home
from cohort.loto import (
    OUTCOME_COLUMNS,
    central_interval,
    hold_out,
    predictive_pmf,
    reportable_trials,
    run_loto,
    summarise,
)
from cohort.versions import Version
from cohort.workflow import model_data
from tests.conftest import TINY_FIT, TINY_GATE


def test_hold_out_empties_outcomes_but_keeps_covariates() -> None:
    data = bundled_dataset()
    trial = data.arms.loc[data.arms.arm_id == "ZUMA1_P2_axicel_LBCL", "trial"].item()
    held = hold_out(data, trial)
    row = held.arms[held.arms.trial == trial]
    assert row[list(OUTCOME_COLUMNS)].isna().all(axis=None)
    assert row["flu_mg_m2_day"].item() == 30 and row["n_treated"].item() == 101
    strata = held.kinetic_strata[held.kinetic_strata.arm_id == "ZUMA1_P2_axicel_LBCL"]
    assert len(strata) and strata[["peak_median", "auc28_median"]].isna().all(axis=None)
    others = held.arms[held.arms.trial != trial]
    pd.testing.assert_frame_equal(others, data.arms[data.arms.trial != trial])


def test_a_fold_keeps_the_full_shapes_and_nothing_of_the_held_outcomes() -> None:
    """Same shapes: every fold reuses the full fit's compiled program and warm start.
    Nothing leaks: changing the held-out trial's outcomes changes no model array."""
    data = bundled_dataset()
    trial = data.arms.loc[data.arms.arm_id == "ZUMA1_P2_axicel_LBCL", "trial"].item()
    changed = data.arms.copy()
    at = changed.trial == trial
    changed.loc[at, ["n_orr", "n_cr", "n_crs_g3", "peak_median"]] = [90, 20, 1, 5.0]
    strata = data.kinetic_strata.copy()
    strata.loc[strata.arm_id == "ZUMA1_P2_axicel_LBCL", "peak_median"] = 1.0
    other = Dataset.from_tables({"arms": changed, "kinetic_strata": strata,
                                 "patients": data.patients,
                                 "patient_kinetics": data.patient_kinetics})
    full, fold, fold_of_changed = (
        [x for x in jax.tree.leaves(model_data(d)) if isinstance(x, np.ndarray)]
        for d in (data, hold_out(data, trial), hold_out(other, trial)))
    assert [np.shape(x) for x in fold] == [np.shape(x) for x in full]
    assert any(not np.array_equal(a, b, equal_nan=True) for a, b in zip(fold, full, strict=True))
    for a, b in zip(fold, fold_of_changed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_predictive_pmf_is_the_mixture_of_binomials() -> None:
    p = np.array([0.2, 0.6])
    pmf = predictive_pmf(p, 10)
    expected = 0.5 * (stats.binom.pmf(np.arange(11), 10, 0.2)
                      + stats.binom.pmf(np.arange(11), 10, 0.6))
    np.testing.assert_allclose(pmf, expected)
    assert pmf.sum() == pytest.approx(1.0)


def test_central_interval_holds_at_least_its_level() -> None:
    pmf = stats.binom.pmf(np.arange(31), 30, 0.4)
    for level in (0.5, 0.9):
        lo, hi = central_interval(pmf, level)
        assert pmf[lo:hi + 1].sum() >= level
        assert pmf[lo + 1:hi + 1].sum() < level + (1 - level) / 2  # not needlessly wide
    assert central_interval(np.eye(5)[2], 0.9) == (2, 2)


def test_every_bundled_trial_with_a_count_is_scoreable() -> None:
    trials = reportable_trials(bundled_dataset())
    assert len(trials) == bundled_dataset().arms.trial.nunique()


ELARA = "ELARA phase 2 (NCT03568461)"
WARM = dataclasses.replace(TINY_FIT, warm_start_warmup=50)


def test_one_real_refit_warm_started_from_the_full_fit_scores_the_held_out_trial(
        fitted_home: tuple[Home, Version]) -> None:
    home, version = fitted_home
    held, fits = run_loto(jax.random.PRNGKey(0), bundled_dataset(), WARM, TINY_GATE, [ELARA],
                          init_from=load_warm_start(home.models_dir, version.id))
    assert {h.outcome for h in held} == {"ORR", "CR", "CRS any", "CRS g3+", "ICANS any",
                                         "ICANS g3+"}
    for h in held:
        assert h.n in (94, 97) and 0 <= h.interval90[0] <= h.interval50[0]
        assert h.interval50[1] <= h.interval90[1] <= h.n
        assert np.isfinite(h.lpd_model) and np.isfinite(h.lpd_baseline)
    summary = summarise(held)
    assert summary.set_index("outcome").loc["all", "counts"] == 6
    fit = fits.iloc[0]
    assert bool(fit.warm_started) and fit.num_warmup == 50 and fit.wall_s > 0


def _validate(home: Home, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": jax.config.jax_compilation_cache_dir}
    return subprocess.run([sys.executable, "-m", "cohort", "--home", str(home.root),
                           "validate", "--loto", *args], capture_output=True, text=True,
                          timeout=900, env=env)


def test_cli_warm_starts_from_the_serving_fit_and_writes_every_table(
        home_copy: tuple[Home, Version], tmp_path: Path) -> None:
    home, version = home_copy
    out = tmp_path / "loto"
    run = _validate(home, "--trial", ELARA, "--chains", "2", "--samples", "100",
                    "--warm-start-warmup", "50", "--seed", "1", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert f"refits warm-started from {version.id}" in run.stderr
    fits = pd.read_csv(out / "loto_fits.csv")
    assert fits.trial.tolist() == [ELARA] and fits.warm_started.all()
    assert len(pd.read_csv(out / "loto_counts.csv")) == 6
    summary = pd.read_csv(out / "loto_summary.csv").set_index("outcome")
    assert summary.loc["all", "counts"] == 6 and 0 <= summary.loc["all", "coverage90"] <= 1
    assert (out / "loto_calibration.png").stat().st_size > 0


def test_cli_names_a_trial_it_cannot_hold_out(tmp_path: Path) -> None:
    run = _validate(Home.resolve(tmp_path / "home"), "--trial", "ELARA", "--out",
                    str(tmp_path / "loto"))
    assert run.returncode == 2
    assert "trial" in run.stderr and "ELARA" in run.stderr and "reported count" in run.stderr
    assert not (tmp_path / "loto").exists()
