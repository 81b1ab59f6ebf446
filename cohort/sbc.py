"""Simulation-based calibration (Talts et al. 2018) of the model's aggregate-data core.

The reduced configuration keeps what makes the model hard to get right — the ordinal
response integrated over the latent expansion by Gauss–Hermite quadrature and the arm
median of kinetics with the sampling variance of a median — using the model's own
likelihood functions, on a few arms with one LD feature. R replicates (θ_r drawn from the
prior, data simulated patient by patient, then aggregated) are fitted in ONE NUTS run: the
model stacks them in a `replicate` plate, so the joint posterior is the product of the R
independent posteriors and one compilation serves them all.

If inference is right, the rank of θ_r among its posterior draws is uniform; a KS test per
parameter with a Bonferroni threshold says whether it is. `sign=-1` plants an error (the
fitting model flips the LD effect) to show the check has teeth.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS
from scipy import stats

from cohort.model.likelihood import (
    gauss_hermite,
    integrate,
    median_loglik,
    ordinal_cdf,
    ordinal_loglik,
)

PARAMETERS = ("mu0", "beta", "gamma", "cut_low", "cut_gap", "a")
SIGMA_E, S_PATIENT, S_ARM = 1.0, 1.0, 0.3  # fixed in the reduced model (as σ_E is in the full)


class SBCConfig(NamedTuple):
    """The CI size; scale replicates/samples up for a full-size check on demand."""

    replicates: int = 50
    arms: int = 8
    patients: int = 40
    chains: int = 1  # one chain suffices for ranks; the R replicates are the repetition
    warmup: int = 250
    samples: int = 400
    thin: int = 2  # ranks need near-independent draws
    nodes: int = 20


class Design(NamedTuple):
    ld: np.ndarray  # (J,) LD feature of each arm, spread so β is identified
    n: np.ndarray  # (J,) patients per arm


def design(config: SBCConfig) -> Design:
    return Design(np.linspace(0.0, 1.5, config.arms), np.full(config.arms, config.patients))


def prior(key: jax.Array, size: int) -> dict[str, jax.Array]:
    """θ_r ~ prior, the same distributions `reduced_model` declares."""
    k = jax.random.split(key, 6)
    return {"mu0": jax.random.normal(k[0], (size,)),
            "beta": jax.random.normal(k[1], (size,)),
            "gamma": jnp.abs(jax.random.normal(k[2], (size,))),
            "cut_low": 1.5 * jax.random.normal(k[3], (size,)),
            "cut_gap": jnp.exp(jnp.log(1.5) + 0.5 * jax.random.normal(k[4], (size,))),
            "a": jnp.log(20_000.0) + jax.random.normal(k[5], (size,))}


def simulate(key: jax.Array, theta: dict[str, jax.Array], d: Design) -> dict[str, jax.Array]:
    """Patients: E ~ N(m_j, σ_E), response category and log peak; then the arm counts
    (none, PR, CR) and the median log peak, as a publication would report them."""
    r, j, n = theta["mu0"].shape[0], len(d.ld), int(d.n.max())
    k_e, k_r, k_y = jax.random.split(key, 3)
    m = theta["mu0"][:, None] + theta["beta"][:, None] * d.ld[None, :]
    e = m[..., None] + SIGMA_E * jax.random.normal(k_e, (r, j, n))
    eta = theta["gamma"][:, None, None] * e
    cuts = jnp.stack([theta["cut_low"], theta["cut_low"] + theta["cut_gap"]], -1)
    u = jax.random.uniform(k_r, (r, j, n))
    category = (u < jax.nn.sigmoid(eta - cuts[:, None, None, 0])).astype(int) + (
        u < jax.nn.sigmoid(eta - cuts[:, None, None, 1])).astype(int)
    counts = jnp.stack([(category == c).sum(-1) for c in range(3)], -1)
    log_peak = theta["a"][:, None, None] + e + S_PATIENT * jax.random.normal(k_y, (r, j, n))
    return {"counts": counts, "log_median": jnp.median(log_peak, axis=-1)}


def reduced_model(data: dict[str, jax.Array], d: Design, nodes: np.ndarray,
                  log_weights: np.ndarray, sign: float = 1.0) -> None:
    """R independent copies of the aggregate core (b = 1 fixes the kinetic scale)."""
    r = data["counts"].shape[0]
    with numpyro.plate("replicate", r):
        mu0 = numpyro.sample("mu0", dist.Normal(0.0, 1.0))
        beta = numpyro.sample("beta", dist.Normal(0.0, 1.0))
        gamma = numpyro.sample("gamma", dist.HalfNormal(1.0))
        cut_low = numpyro.sample("cut_low", dist.Normal(0.0, 1.5))
        cut_gap = numpyro.sample("cut_gap", dist.LogNormal(jnp.log(1.5), 0.5))
        a = numpyro.sample("a", dist.Normal(jnp.log(20_000.0), 1.0))
        m = mu0[:, None] + sign * beta[:, None] * d.ld[None, :]  # (R, J)
        grid = m[..., None] + SIGMA_E * nodes  # (R, J, Q)
        cuts = jnp.stack([cut_low, cut_low + cut_gap], -1)[:, None, :]  # (R, 1, 2)
        cdf = integrate(jnp.moveaxis(ordinal_cdf(gamma[:, None, None] * grid,
                                                 cuts[:, :, None, :]), -2, -1), log_weights)
        none, pr, cr = (data["counts"][..., c] for c in range(3))
        coef = jnp.stack([none, pr, cr, jnp.zeros_like(cr), jnp.zeros_like(cr)], -1)
        counts = ordinal_loglik(cdf, coef, 0.0).sum(-1)
        medians = median_loglik(data["log_median"], a[:, None], 1.0, m, SIGMA_E**2,
                                S_PATIENT, S_ARM, d.n).sum(-1)
        numpyro.factor("arms", counts + medians)


def ranks(rng_key: jax.Array, config: SBCConfig, sign: float = 1.0) -> dict[str, np.ndarray]:
    """Rank of each replicate's true θ among its thinned posterior draws, per parameter."""
    k_prior, k_sim, k_fit = jax.random.split(rng_key, 3)
    d = design(config)
    theta = prior(k_prior, config.replicates)
    data = simulate(k_sim, theta, d)
    nodes, log_weights = gauss_hermite(config.nodes)
    mcmc = MCMC(NUTS(reduced_model), num_warmup=config.warmup, num_samples=config.samples,
                num_chains=config.chains, chain_method="vectorized", progress_bar=False)
    mcmc.run(k_fit, data, d, nodes, log_weights, sign)
    draws = mcmc.get_samples()
    return {name: (np.asarray(draws[name])[::config.thin] < np.asarray(theta[name])).sum(0)
            for name in PARAMETERS}


def uniformity_pvalues(rank: dict[str, np.ndarray], draws: int,
                       rng: np.random.Generator) -> dict[str, float]:
    """KS p-value per parameter of (rank + U)/(draws + 1) against Uniform(0, 1); the
    jitter makes the discrete ranks continuous without changing their distribution."""
    return {name: float(stats.kstest((r + rng.uniform(size=r.shape)) / (draws + 1),
                                     "uniform").pvalue) for name, r in rank.items()}
