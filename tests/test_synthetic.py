"""The synthetic generator writes contract tables that obey the contract's count rules."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest

from cohort.contract import ARMS, KINETIC_STRATA, PATIENTS
from cohort.synthetic import SyntheticConfig, simulate, write_csv

MISSING = SyntheticConfig(n_arms=20, patients_per_arm=30, ipd_fraction=0.3,
                          missing_dose=0.3, missing_attribute=0.4, missing_count=0.3)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    tables, truth = simulate(jax.random.PRNGKey(3), MISSING)
    paths = write_csv(tables, tmp_path_factory.mktemp("synthetic"))
    return {name: pd.read_csv(path) for name, path in paths.items()}, truth


def test_columns_follow_the_contract(written: tuple[dict, dict]) -> None:
    tables, _ = written
    assert tuple(tables["arms"].columns) == ARMS.names
    assert set(PATIENTS.names) <= set(tables["patients"].columns)
    assert set(tables["kinetic_strata"].columns) <= set(KINETIC_STRATA.names)


def test_counts_respect_denominators_and_nesting(written: tuple[dict, dict]) -> None:
    arms = written[0]["arms"]
    n_eff = arms["n_efficacy"].fillna(arms["n_treated"])
    pairs = [("n_orr", n_eff), ("n_cr", n_eff), ("n_cr", arms["n_orr"]),
             ("n_crs_g3", arms["n_crs_any"]), ("n_icans_g3", arms["n_icans_any"])]
    pairs += [(c, arms["n_treated"]) for c in ("n_crs_any", "n_icans_any", "n_neut_g3",
                                               "n_gvhd_any")]
    for column, bound in pairs:
        both = arms[column].notna() & bound.notna()
        assert (arms.loc[both, column] <= bound[both]).all(), column
        assert (arms[column].dropna() >= 0).all()


def test_truth_and_missingness(written: tuple[dict, dict]) -> None:
    tables, truth = written
    for key in ("ld_effect", "gamma", "attr_effect", "cuts", "kin_a", "arm_mean_expansion"):
        assert key in truth
    arms = tables["arms"]
    for column in ("flu_mg_m2_day", "cy_mg_m2_day", "costim", "cell_source", "n_orr"):
        assert arms[column].isna().any(), column
    complete, _ = simulate(jax.random.PRNGKey(3), SyntheticConfig(n_arms=20))
    assert complete["arms"][["flu_mg_m2_day", "costim", "cell_source"]].notna().all().all()


def test_patients_are_the_ipd_arms(written: tuple[dict, dict]) -> None:
    tables, truth = written
    patients = tables["patients"]
    assert set(patients["arm_id"]) == set(truth["ipd_arms"])
    assert set(patients["best_response"]) <= {"CR", "PR", "SD", "PD"}
    assert patients["crs_grade"].between(0, 4).all()
    assert np.isin(patients["gvhd"], [0, 1]).all()
