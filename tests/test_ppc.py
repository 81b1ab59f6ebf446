"""Posterior predictive checks: exact tables from known rates, and one real fitted version."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cohort.bundled import bundled_dataset
from cohort.home import Home
from cohort.loto import OUTCOMES, central_interval
from cohort.ppc import check_counts, ppc_coverage, ppc_table
from cohort.versions import Version
from cohort.workflow import load_dataset, load_fitted

COUNT_COLUMNS = [column for _, column, _, _ in OUTCOMES]


def _constant_rates(arms: pd.DataFrame, p: float, draws: int = 3) -> dict[str, np.ndarray]:
    """Every arm and outcome at rate p in every draw (arm_cdf: outcome × (≥low, top))."""
    return {"arm_cdf": np.full((draws, len(arms), 3, 2), p),
            "arm_p_binary": np.full((draws, len(arms), 2), p)}


def test_known_rates_give_binomial_intervals_and_tail_probabilities() -> None:
    arms = bundled_dataset().arms
    order = tuple(arms.arm_id)
    table = check_counts(arms, _constant_rates(arms, 0.4), order).set_index(["arm_id", "outcome"])
    row = table.loc[("ZUMA1_P2_axicel_LBCL", "ORR")]
    assert (row.n, row.observed) == (101, 83)  # n_efficacy empty: n_treated is the denominator
    pmf = stats.binom.pmf(np.arange(102), 101, 0.4)
    assert (row.lo90, row.hi90) == central_interval(pmf, 0.9)
    assert (row.lo50, row.hi50) == central_interval(pmf, 0.5)
    assert row.predicted_mean == pytest.approx(40.4)
    assert not row.in90  # 83 of 101 at a rate of 0.4 is far outside
    assert row.tail_probability == pytest.approx(stats.binom.sf(82, 101, 0.4))
    low = table.loc[("ZUMA1_P2_axicel_LBCL", "CRS g3+")]  # 13 of 101: the lower tail
    assert low.tail_probability == pytest.approx(stats.binom.cdf(13, 101, 0.4))


def test_every_reported_count_is_checked_once_and_structural_zeros_are_skipped() -> None:
    arms = bundled_dataset().arms
    order = tuple(reversed(arms.arm_id))  # the model's arm order need not be the table's
    rates = _constant_rates(arms, 0.3)
    gvhd_reported = arms.n_gvhd_any.notna().to_numpy()
    first = int(np.flatnonzero(gvhd_reported)[0])
    rates["arm_p_binary"][:, order.index(arms.arm_id.iloc[first]), 1] = 0.0
    table = check_counts(arms, rates, order)
    assert len(table) == int(arms[COUNT_COLUMNS].notna().sum().sum()) - 1
    assert not ((table.arm_id == arms.arm_id.iloc[first]) & (table.outcome == "GvHD")).any()
    assert (table.lo90 <= table.lo50).all() and (table.hi50 <= table.hi90).all()
    assert (table.hi90 <= table.n).all()


def test_coverage_is_the_share_inside_each_interval() -> None:
    table = pd.DataFrame({"outcome": ["ORR", "ORR", "CR", "CR"],
                          "in50": [True, False, False, False], "in90": [True, True, True, False]})
    coverage = ppc_coverage(table).set_index("outcome")
    assert coverage.loc["ORR", "coverage50"] == 0.5 and coverage.loc["CR", "coverage90"] == 0.5
    assert coverage.loc["all", "counts"] == 4 and coverage.loc["all", "coverage90"] == 0.75


def test_a_fitted_version_reproduces_most_of_its_own_counts(
        fitted_home: tuple[Home, Version]) -> None:
    home, version = fitted_home
    fitted = load_fitted(home, version.id)
    arms = load_dataset(fitted.version).arms
    table = ppc_table(jax.random.PRNGKey(0), arms, fitted.data, fitted.idata)
    assert set(table.arm_id) <= set(arms.arm_id) and len(table) > 100
    # in sample, even a tiny fit covers most counts; a misaligned arm order would not
    assert ppc_coverage(table).set_index("outcome").loc["all", "coverage90"] >= 0.75
    assert table.tail_probability.between(0, 1).all()
