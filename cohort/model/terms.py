"""Log-likelihood terms of arms, kinetic strata and patients given the parameters.

Each function returns one value per row (a row = an item under one attribute
combination); model.py sums rows into (product, combination) cells and mixes them.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from cohort.model.data import ArmRows, StratumRows
from cohort.model.features import LD_REFERENCE
from cohort.model.ipd import PatientRows
from cohort.model.likelihood import (
    Array,
    bernoulli_logprob,
    binary_loglik,
    category_logprob,
    conditional_moments,
    integrate,
    median_loglik,
    ordinal_cdf,
    ordinal_loglik,
    take,
)
from cohort.model.priors import SIGMA_E

MEASURE = np.arange(2, dtype=np.int32)


class ArmState(NamedTuple):
    """What strata, patients and predictions reuse from the arm rows."""

    mu_base: Array  # (R, K) linear predictors without the LD term
    m: Array  # (R,) arm mean expansion m_j
    grid: Array  # (R, Q) expansion at the quadrature nodes
    eta: Array  # (R, K-1, Q) outcome linear predictors at the nodes
    cdf: Array  # (R, 3, 2) integrated [P(≥mid), P(top)] of response, CRS, ICANS
    p_binary: Array  # (R, 2) integrated P(neutropenia g≥3), P(GvHD)


def outcome_eta(params, mu: Array, grid: Array) -> Array:
    """η_k(E) = μ_k + γ_k·E for k = R, C, I, N, G; mu (..., K), grid (..., G) → (..., K-1, G)."""
    return mu[..., 1:, None] + params.gamma[1:, None] * grid[..., None, :]


def ld_term(ld: Array, ld_effect: Array) -> Array:
    """β·(f − f_ref): the LD part of every linear predictor (features.LD_REFERENCE)."""
    return (ld - jnp.asarray(LD_REFERENCE, ld.dtype)) @ ld_effect


def arm_state(params, rows: ArmRows, nodes: Array, log_weights: Array) -> ArmState:
    """Integrated category probabilities of every arm row (Gauss–Hermite over E)."""
    mu_base = (rows.attr @ params.attr_effect + take(params.product_effect, rows.product)
               + take(params.disease_effect, rows.disease)
               + take(params.trial_effect, rows.trial) + params.alpha)
    mu = mu_base + ld_term(take(params.ld, rows.arm), params.ld_effect)
    grid = mu[:, :1] + SIGMA_E * nodes
    eta = outcome_eta(params, mu, grid)
    cdf = integrate(jnp.moveaxis(ordinal_cdf(eta[:, :3], params.cuts[:, None, :]), -2, -1),
                    log_weights)
    eligible = jnp.stack([jnp.ones(len(rows.arm), bool), rows.gvhd_eligible], axis=-1)
    p_binary = jnp.where(eligible, integrate(jax.nn.sigmoid(eta[:, 3:]), log_weights), 0.0)
    return ArmState(mu_base, mu[:, 0], grid, eta, cdf, p_binary)


def _kinetic_coefficients(params, unit: np.ndarray) -> tuple[Array, Array, Array]:
    return (params.kin_a[MEASURE, unit], params.kin_b[MEASURE, unit],
            params.kin_s[MEASURE, unit])


def arm_loglik(params, rows: ArmRows, state: ArmState, dtype) -> Array:
    """Counts (multinomial/binomial) and arm medians of peak and AUC0-28, per row."""
    counts = (ordinal_loglik(state.cdf, rows.ord_coef, rows.ord_const).sum(-1)
              + binary_loglik(state.p_binary, rows.bin_coef, rows.bin_const).sum(-1))
    a, b, s = _kinetic_coefficients(params, rows.kin_unit)
    n = jnp.asarray(rows.kin_n, dtype)[:, None]
    medians = median_loglik(jnp.asarray(rows.kin_log, dtype), a, b, state.m[:, None],
                            SIGMA_E**2, s, params.kin_s_arm, n)
    return counts + jnp.sum(jnp.where(rows.kin_mask, medians, 0.0), axis=-1)


def stratum_loglik(params, strata: StratumRows, rows: ArmRows, state: ArmState,
                   log_weights: Array, default_n: float, dtype) -> Array:
    """Stratum medians: E's moments among responders / non-responders (weights
    w_q·P(group | E_q) on the arm's nodes) or under the stratum's own LD regimen."""
    shift = (take(params.ld, strata.ld) - take(params.ld, rows.arm[strata.row])) \
        @ params.ld_effect[:, 0]
    grid = take(state.grid, strata.row) + shift[:, None]
    margin = take(state.eta[:, 0], strata.row) - params.cuts[0, 0]
    group = strata.group[:, None]
    log_p = jnp.where(group == 0, jax.nn.log_sigmoid(margin),
                      jnp.where(group == 1, jax.nn.log_sigmoid(-margin), 0.0))
    mean, var = conditional_moments(grid, log_weights + log_p)
    a, b, s = _kinetic_coefficients(params, strata.kin_unit)
    n = jnp.asarray(jnp.where(jnp.isnan(strata.n), default_n, strata.n), dtype)[:, None]
    medians = median_loglik(jnp.asarray(strata.kin_log, dtype), a, b, mean[:, None],
                            var[:, None], s, params.kin_s_arm, n)
    return jnp.sum(jnp.where(strata.kin_mask, medians, 0.0), axis=-1)


def _kinetic_evidence(params, patients: PatientRows, m: Array, dtype) -> tuple:
    """Closed-form integral over ε ~ N(0, 1) of Π_measures N(log y | a + b·(m + σ_E ε), s):
    returns (log marginal density, posterior mean and sd of ε given the kinetics)."""
    a, b, s = _kinetic_coefficients(params, patients.kin_unit)
    b = b * SIGMA_E
    resid = jnp.where(patients.kin_mask, jnp.asarray(patients.kin_log, dtype) - a
                      - b * m[:, None], 0.0)
    precision = 1.0 + jnp.sum(jnp.where(patients.kin_mask, (b / s) ** 2, 0.0), axis=-1)
    h = jnp.sum(jnp.where(patients.kin_mask, b * resid / s**2, 0.0), axis=-1)
    noise = jnp.sum(jnp.where(patients.kin_mask, jax.scipy.stats.norm.logpdf(resid, 0.0, s),
                              0.0), axis=-1)
    log_evidence = noise + 0.5 * h**2 / precision - 0.5 * jnp.log(precision)
    return log_evidence, h / precision, jax.lax.rsqrt(precision)


def patient_loglik(params, patients: PatientRows, state: ArmState, nodes: Array,
                   log_weights: Array, dtype) -> Array:
    """Per patient row: p(kinetics) · Σ_q w_q p(outcomes | E_q), the nodes E_q placed on
    the (Gaussian) posterior of E given the patient's kinetics — the exact marginal over
    E_i without a latent per patient (the prior N(m, σ_E) when nothing was measured)."""
    ld = jnp.where(patients.ld_known, jnp.asarray(patients.ld_value, dtype),
                   take(params.ld, patients.arm))
    mu = take(state.mu_base, patients.row) + ld_term(ld, params.ld_effect)
    log_evidence, mean, sd = _kinetic_evidence(params, patients, mu[:, 0], dtype)
    grid = mu[:, :1] + SIGMA_E * (mean[:, None] + sd[:, None] * nodes)
    eta = outcome_eta(params, mu, grid)
    ordinal = category_logprob(ordinal_cdf(eta[:, :3], params.cuts[:, None, :]),
                               patients.ord_cat[:, :, None]).sum(1)
    binary = (bernoulli_logprob(eta[:, 3], patients.bin_obs[:, :1], True)
              + bernoulli_logprob(eta[:, 4], patients.bin_obs[:, 1:],
                                  patients.gvhd_eligible[:, None]))
    return log_evidence + jax.scipy.special.logsumexp(ordinal + binary + log_weights, axis=-1)
