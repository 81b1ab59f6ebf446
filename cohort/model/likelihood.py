"""Pure likelihood pieces: quadrature, integrated category probabilities, count and
median-of-kinetics log-likelihoods, conditional moments of E within response groups.

Shapes: a leading row axis (arms × combinations, strata, patients), then outcome axes,
then the quadrature axis Q. Nothing here samples; model.py wires it together.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

Array = jax.Array
TINY = 1e-30
# log-probability of a structurally impossible observation (GvHD after an autologous
# product): finite so that mixtures over attribute levels keep finite gradients.
IMPOSSIBLE = -1e6


def gauss_hermite(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z_q and log weights with Σ_q w_q g(z_q) ≈ E[g(Z)], Z ~ N(0, 1).

    One node (z = 0, w = 1) is the plug-in approximation P(cat | E = m_j); it exists only
    to measure its bias (tests/test_model_integration.py), never for fitting.
    """
    x, w = np.polynomial.hermite.hermgauss(n_nodes)
    return math.sqrt(2.0) * x, np.log(w / math.sqrt(math.pi))


def take(values: Array, index: np.ndarray) -> Array:
    """values[index] along axis 0; a one-hot matmul in float32 (its gradient avoids the
    slow float32 scatter-add on GPU, DESIGN §8)."""
    if values.dtype == jnp.float64:
        return values[index]
    return jnp.tensordot(jax.nn.one_hot(index, values.shape[0], dtype=values.dtype), values, 1)


def segment_total(values: Array, segment: np.ndarray, n_segments: int) -> Array:
    """Σ of values by segment (axis 0); one-hot matmul in float32 for the same reason."""
    if values.dtype == jnp.float64:
        return jax.ops.segment_sum(values, segment, n_segments)
    return jnp.tensordot(jax.nn.one_hot(segment, n_segments, dtype=values.dtype), values,
                         ((0,), (0,)))


def ordinal_cdf(eta: Array, cuts: Array) -> Array:
    """[P(≥ mid), P(top)] = σ(η − c1), σ(η − c2); cuts (..., 2) broadcast against η[..., None]."""
    return jax.nn.sigmoid(eta[..., None] - cuts)


def ordinal_loglik(cdf: Array, coef: Array, const: Array) -> Array:
    """Multinomial / binomial log-pmf of counts on [1-P1, P1-P2, P2, P1, 1-P2]; cdf (..., 2)."""
    p1, p2 = cdf[..., 0], cdf[..., 1]
    probs = jnp.stack([1.0 - p1, p1 - p2, p2, p1, 1.0 - p2], axis=-1)
    return jnp.sum(coef * jnp.log(jnp.maximum(probs, TINY)), axis=-1) + const


def binary_loglik(p: Array, coef: Array, const: Array) -> Array:
    """Binomial log-pmf of counts on [1-P, P]."""
    probs = jnp.stack([1.0 - p, p], axis=-1)
    return jnp.sum(coef * jnp.log(jnp.maximum(probs, TINY)), axis=-1) + const


def integrate(values: Array, log_weights: Array) -> Array:
    """Σ_q w_q values[..., q] — the arm average over its patients' latent expansion."""
    return jnp.tensordot(values, jnp.exp(log_weights), axes=1)


def conditional_moments(grid: Array, log_weights: Array) -> tuple[Array, Array]:
    """Mean and variance of E over a grid (..., Q) with unnormalised log weights."""
    w = jax.nn.softmax(log_weights, axis=-1)
    mean = jnp.sum(w * grid, axis=-1)
    return mean, jnp.sum(w * (grid - mean[..., None]) ** 2, axis=-1)


def median_loglik(log_median: Array, a: Array, b: Array, mean_e: Array, var_e: Array,
                  s: Array, s_arm: Array, n: Array) -> Array:
    """log N(log median | a + b·E[E], sd) with the sampling variance of a median of n
    log-values, (π/2)·Var/n, plus an arm-level reporting error s_arm."""
    sd = jnp.sqrt(0.5 * jnp.pi * (b**2 * var_e + s**2) / n + s_arm**2)
    return jax.scipy.stats.norm.logpdf(log_median, a + b * mean_e, sd)


def category_logprob(cdf: Array, category: Array) -> Array:
    """log P(category) of an ordinal outcome from its cdf (..., 2); category −1 → 0."""
    p1, p2 = cdf[..., 0], cdf[..., 1]
    probs = jnp.stack([1.0 - p1, p1 - p2, p2], axis=-1)
    picked = jnp.take_along_axis(probs, jnp.maximum(category, 0)[..., None], axis=-1)[..., 0]
    return jnp.where(category >= 0, jnp.log(jnp.maximum(picked, TINY)), 0.0)


def bernoulli_logprob(eta: Array, observed: Array, eligible: Array) -> Array:
    """log P(y | η) of a binary outcome; −1 = missing; ineligible rows have P(y = 1) = 0."""
    lp = jnp.where(observed == 1, jax.nn.log_sigmoid(eta), jax.nn.log_sigmoid(-eta))
    structural = jnp.where(observed == 1, IMPOSSIBLE, 0.0)
    return jnp.where(observed < 0, 0.0, jnp.where(eligible, lp, structural))


def mixture_loglik(cell_total: Array, compatible: np.ndarray, log_prior: Array) -> Array:
    """Per-product log Σ_c ω_c p(data | combination c): the exact marginal over unknown
    attributes. cell_total (P·C,), compatible (P, C), log_prior (C,)."""
    cells = cell_total.reshape(compatible.shape) + log_prior
    return logsumexp(jnp.where(compatible, cells, -jnp.inf), axis=-1)


def logmeanexp_grid(log_values: Array, log_weights: Array) -> Array:
    """log Σ_q w_q exp(log_values[..., q]): a patient's likelihood marginal over E."""
    return logsumexp(log_values + log_weights, axis=-1)
