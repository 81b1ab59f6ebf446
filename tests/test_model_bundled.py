"""The bundled published arms build into model arrays; the log density and its gradient
are finite in float64 and float32; a tiny real NUTS fit runs."""

from __future__ import annotations

from importlib import resources

import jax
import numpy as np
import pandas as pd
import pytest
from numpyro.infer.util import initialize_model

from cohort.model import COMBOS, ModelData, build_model_data, cohort_model
from cohort.model.features import FEATURES, Impute
from tests.model_fit import nuts


@pytest.fixture(scope="module")
def bundled() -> ModelData:
    folder = resources.files("cohort") / "data"
    arms = pd.read_csv(folder / "arms.csv")
    strata = pd.read_csv(folder / "kinetic_strata.csv")
    return build_model_data(arms, strata)


def test_index_and_mixture_rows(bundled: ModelData) -> None:
    index, rows = bundled.index, bundled.rows
    assert len(index.arms) == 39 and len(index.products) == len(set(index.products))
    assert bundled.compatible.shape == (len(index.products), len(COMBOS))
    # costim and cell_source both unknown: 3 × 3 combinations, never a level of their own
    unknown = index.products.index("CD22 CAR-T")
    assert bundled.compatible[unknown].sum() == 9
    assert len(rows.arm) == bundled.compatible[rows.product[np.unique(rows.arm,
                                                                      return_index=True)[1]]
                                               ].sum()


def test_unknown_doses_are_latent_and_not_zero(bundled: ModelData) -> None:
    ld, arm = bundled.ld, bundled.index.arms.index("ZUMA12_axicel")
    assert ld.unknown[arm, :3].all()  # no dose stated
    assert list(ld.kind[arm, :3]) == [Impute.USUAL, Impute.USUAL, Impute.NOT_USUAL]
    assert ld.loc[arm, FEATURES.index("flu")] == pytest.approx(np.log1p(1.0))
    zuma1 = bundled.index.arms.index("ZUMA1_P2_axicel_LBCL")
    assert not ld.unknown[zuma1, :2].any() and ld.value[zuma1, 0] == pytest.approx(np.log1p(1))


def test_strata_kept_by_response_group_and_regimen(bundled: ModelData) -> None:
    # ZUMA-1 (3, labelled), JULIET by LD (2), CD19 CAR-NK (2); ELARA unlabelled and the
    # biomarker stratum are not used.
    assert np.bincount(bundled.strata.group, minlength=3).tolist() == [3, 2, 2]


def test_an_arm_median_covered_by_both_response_strata_is_not_counted_twice() -> None:
    folder = resources.files("cohort") / "data"
    arms, strata = pd.read_csv(folder / "arms.csv"), pd.read_csv(folder / "kinetic_strata.csv")
    zuma1 = "ZUMA1_P2_axicel_LBCL"  # strata: responders (2 rows) and non-responders
    arms.loc[arms["arm_id"] == zuma1, ["peak_median", "peak_unit"]] = [30.0, "cells/uL"]
    strata.loc[(strata["arm_id"] == zuma1) & (strata["response_group"] == "responder"),
               "auc28_median"] = np.nan  # AUC0-28: non-responders only
    arms.loc[arms["arm_id"] == zuma1, ["auc28_median", "auc28_unit"]] = [300.0, "cells/uL"]
    both = build_model_data(arms, strata)
    one_group = build_model_data(arms, strata[strata["response_group"] != "non-responder"])
    rows = both.rows.arm == both.index.arms.index(zuma1)
    assert not both.rows.kin_mask[rows, 0].any()  # peak: both groups report it
    assert both.rows.kin_mask[rows, 1].all()  # AUC0-28: one group only
    assert one_group.rows.kin_mask[rows].all()
    assert build_model_data(arms).rows.kin_mask[rows].all()  # no strata table at all


@pytest.mark.parametrize("x64", [True, False])
def test_log_density_and_gradient_are_finite(bundled: ModelData, x64: bool) -> None:
    def value_and_grad(key: jax.Array) -> tuple:
        info = initialize_model(key, cohort_model, model_kwargs={"data": bundled})
        return jax.value_and_grad(info.potential_fn)(info.param_info.z)

    with jax.enable_x64(x64):
        value, grad = jax.jit(value_and_grad)(jax.random.PRNGKey(0))
    assert np.isfinite(value)
    assert all(np.isfinite(np.asarray(g)).all() for g in jax.tree.leaves(grad))


def test_tiny_fit_runs(bundled: ModelData) -> None:
    samples, _ = nuts(jax.random.PRNGKey(0), bundled, 20, 10)
    assert samples["gamma"].shape == (20, 5) and (samples["gamma"] >= 0).all()
    assert np.isfinite(np.asarray(samples["ld_effect"])).all()
