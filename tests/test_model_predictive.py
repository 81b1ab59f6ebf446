"""Predictive mode: sampling arm counts (contract column names) from the model."""

from __future__ import annotations

import jax
import numpy as np
from numpyro.infer import Predictive

from cohort.model import build_model_data, cohort_model, params_from_samples
from cohort.synthetic import SyntheticConfig, simulate


def test_prior_predictive_counts_are_in_range() -> None:
    tables, _ = simulate(jax.random.PRNGKey(5), SyntheticConfig(
        n_arms=8, patients_per_arm=20, ipd_fraction=0.25, missing_attribute=0.5))
    data = build_model_data(tables["arms"], tables["kinetic_strata"], tables["patients"])
    with jax.enable_x64(True):
        predictive = Predictive(cohort_model, num_samples=50)
        draws = jax.jit(lambda key: predictive(key, data=data, predictive=True))(
            jax.random.PRNGKey(0))
    arms = tables["arms"]
    n_treated = arms["n_treated"].to_numpy()
    n_eff = arms["n_efficacy"].fillna(arms["n_treated"]).to_numpy()
    orr, cr = np.asarray(draws["n_orr"]), np.asarray(draws["n_cr"])
    assert orr.shape == (50, len(arms))
    assert ((0 <= cr) & (cr <= orr) & (orr <= n_eff)).all()
    for any_, top in (("n_crs_any", "n_crs_g3"), ("n_icans_any", "n_icans_g3")):
        low, high = np.asarray(draws[any_]), np.asarray(draws[top])
        assert ((0 <= high) & (high <= low) & (low <= n_treated)).all()
    gvhd = np.asarray(draws["n_gvhd_any"])
    assert ((0 <= gvhd) & (gvhd <= n_treated)).all()
    # structurally zero for autologous products (and CAR-NK)
    impossible = ((arms["cell_source"] == "autologous") | (arms["cell_type"] == "CAR-NK"))
    assert (gvhd[:, impossible.to_numpy()] == 0).all()
    assert orr.std() > 0
    # the predictive engine rebuilds natural-unit parameters from the draws
    with jax.enable_x64(True):
        params = params_from_samples(dict(draws), data)
    assert params.gamma.shape == (50, 6) and (np.asarray(params.gamma[:, 0]) == 0).all()
    np.testing.assert_allclose(params.cuts, draws["cuts"])


def test_reparameterised_sites_keep_their_priors() -> None:
    """Sites sampled in other coordinates for NUTS must still imply the priors of
    priors.py, checked on 20,000 draws: τ_product, τ_trial (a total and a share) are two
    independent HalfNormal(scale); the cut-points (sampled on the arms' marginal scale,
    which depends on γ) are c₁ ~ N(0, s), log gap ~ N(log g, s_g), independent of γ.

    KS at n = 20,000: the 1% critical distance is 1.63/√n ≈ 0.0115; the independence checks
    use |corr| < 4/√n ≈ 0.028 (4 sd of a null correlation)."""
    from scipy import stats

    from cohort.model.model import DEFAULT_PRIORS as PRIORS
    from cohort.model.model import sample_params

    tables, _ = simulate(jax.random.PRNGKey(5), SyntheticConfig(n_arms=4, patients_per_arm=10))
    data = build_model_data(tables["arms"], tables["kinetic_strata"], tables["patients"])
    n = 20_000
    draws = Predictive(sample_params, num_samples=n)(jax.random.PRNGKey(3), data, PRIORS)
    product, trial = np.asarray(draws["tau_product"]), np.asarray(draws["tau_trial"])
    for tau, scale in ((product, PRIORS.tau_prod_scale), (trial, PRIORS.tau_trial_scale)):
        for k in (0, 3):
            assert stats.kstest(tau[:, k], stats.halfnorm(scale=scale).cdf).pvalue > 0.01
    assert abs(np.corrcoef(product[:, 0], trial[:, 0])[0, 1]) < 4 / np.sqrt(n)
    cuts, gamma = np.asarray(draws["cuts"]), np.asarray(draws["gamma"])
    low, log_gap = cuts[..., 0], np.log(cuts[..., 1] - cuts[..., 0])
    for k in range(3):  # response, CRS, ICANS; γ in the same order
        assert stats.kstest(low[:, k], stats.norm(0.0, PRIORS.cut_scale).cdf).pvalue > 0.01
        assert stats.kstest(log_gap[:, k], stats.norm(np.log(PRIORS.cut_gap_loc),
                                                      PRIORS.cut_gap_log_sd).cdf).pvalue > 0.01
        for value in (np.abs(low[:, k]), log_gap[:, k]):  # |c₁|: a scale that grew with γ
            assert abs(np.corrcoef(value, gamma[:, k])[0, 1]) < 4 / np.sqrt(n)
