"""Leave-one-trial-out: the scoring pieces exactly, and one real refit end to end."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cohort.bundled import bundled_dataset
from cohort.loto import (
    OUTCOME_COLUMNS,
    central_interval,
    hold_out,
    predictive_pmf,
    reportable_trials,
    run_loto,
    summarise,
)
from tests.conftest import TINY_FIT, TINY_GATE


def test_hold_out_empties_outcomes_but_keeps_covariates() -> None:
    data = bundled_dataset()
    trial = data.arms.loc[data.arms.arm_id == "ZUMA1_P2_axicel_LBCL", "trial"].item()
    held = hold_out(data, trial)
    row = held.arms[held.arms.trial == trial]
    assert row[list(OUTCOME_COLUMNS)].isna().all(axis=None)
    assert row["flu_mg_m2_day"].item() == 30 and row["n_treated"].item() == 101
    assert (held.kinetic_strata.arm_id != "ZUMA1_P2_axicel_LBCL").all()
    others = held.arms[held.arms.trial != trial]
    pd.testing.assert_frame_equal(others, data.arms[data.arms.trial != trial])


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


def test_one_real_refit_scores_the_held_out_trial() -> None:
    data = bundled_dataset()
    trial = data.arms.loc[data.arms.arm_id == "ELARA_tisacel_FL", "trial"].item()
    held, fits = run_loto(jax.random.PRNGKey(0), data, TINY_FIT, TINY_GATE, [trial])
    assert {h.outcome for h in held} == {"ORR", "CR", "CRS any", "CRS g3+", "ICANS any",
                                         "ICANS g3+"}
    for h in held:
        assert h.n in (94, 97) and 0 <= h.interval90[0] <= h.interval50[0]
        assert h.interval50[1] <= h.interval90[1] <= h.n
        assert np.isfinite(h.lpd_model) and np.isfinite(h.lpd_baseline)
    summary = summarise(held)
    assert summary.set_index("outcome").loc["all", "counts"] == 6
    assert len(fits) == 1 and fits.wall_s.item() > 0
