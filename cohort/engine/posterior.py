"""What the predictive engine keeps of a fitted version: `PosteriorDraws`.

Built once at load time from the model data and the ArviZ posterior: chains × draws are
flattened to S posterior draws, the model's own `sample_params` is replayed per draw
(numpyro `substitute`) so that every derived quantity (effects, cut-points, intercepts,
log ω of each attribute combination) comes from the model's code, never a copy of it.

Known products with unknown attributes (costim, cell source...) carry per draw the exact
conditional posterior of their attribute combination given that draw's parameters,
P(c | data, θ_s) ∝ ω_c(θ_s)·p(data_p | c, θ_s): the model's per-cell log-likelihood
(`cell_loglik`) plus log ω, normalised over the combinations the product allows. Drawing
c from it per draw yields exact joint posterior draws of (θ, c) — the fit marginalised c
out, so nothing else would recover it. It costs one likelihood evaluation per draw,
batched with `lax.map`, once per loaded version.
"""

from __future__ import annotations

from typing import NamedTuple

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
from numpyro import handlers

from cohort.errors import IncompatibleVersion
from cohort.model import DataIndex, ModelData, Priors, latent_sites, sample_params
from cohort.model.data import GVHD_ELIGIBLE
from cohort.model.model import DEFAULT_PRIORS, cell_loglik

Array = jax.Array
PEAK = 0  # kinetic measure index of the peak in kin_a / kin_b / kin_s


class PosteriorDraws(NamedTuple):
    """Per-draw arrays (leading axis S) the predictive engine needs, nothing else."""

    attr_effect: Array  # (S, D, K)
    product_effect: Array  # (S, P, K) δ of known products
    tau_product: Array  # (S, K) sd of a new product's δ
    disease_effect: Array  # (S, Dz, K) θ of known diseases
    tau_disease: Array  # (S, K)
    tau_trial: Array  # (S, K) sd of a new trial's u
    trial_corr_chol: Array  # (S, K, K) Cholesky factor of the trial correlation Ω
    ld_effect: Array  # (S, 4, K)
    alpha: Array  # (S, K)
    gamma: Array  # (S, K) expansion slopes (0 for E)
    cuts: Array  # (S, 3, 2) cut-points of response, CRS, ICANS
    peak_a: Array  # (S, U) log peak = a_u + b_u·E + s_u·e
    peak_b: Array  # (S, U)
    peak_s: Array  # (S, U)
    log_combo_prior: Array  # (S, C) log ω_c from the level frequencies (new products)
    combo_logpost: Array  # (S, P, C) log P(c | data, θ_s) of each known product
    nodes: Array  # (Q,) Gauss–Hermite nodes of the model
    log_weights: Array  # (Q,)
    gvhd_eligible: Array  # (C,) bool


class Catalogue(NamedTuple):
    """Names and static facts the engine validates specs against (host side, numpy)."""

    index: DataIndex
    compatible: np.ndarray  # (P, C) combinations each known product's attributes allow
    product_targets: tuple[str, ...]  # target of each known product, e.g. "CD19/CD22"
    posterior_draws: int  # S = chains × draws


def _flat(idata: az.InferenceData) -> dict[str, np.ndarray]:
    post = idata.posterior
    return {k: np.asarray(v.values).reshape((-1, *v.shape[2:])) for k, v in post.items()}


def _replay(data: ModelData, priors: Priors, draw: dict[str, Array]) -> tuple:
    """The model's parameters and per-(product, combination) log-likelihood at one draw."""
    with handlers.substitute(data=draw):
        params = sample_params(data, priors)
        cells, _ = cell_loglik(params, data, priors)
    logits = jnp.where(data.compatible, cells.reshape(data.compatible.shape)
                       + params.log_combo_prior, -jnp.inf)
    return params, jax.nn.log_softmax(logits, axis=-1)


def load_posterior(data: ModelData, idata: az.InferenceData, dtype: str = "float64",
                   priors: Priors = DEFAULT_PRIORS,
                   batch_size: int = 128) -> tuple[PosteriorDraws, Catalogue]:
    """Engine input from a version's model data and posterior (S = chains × draws);
    IncompatibleVersion when the posterior lacks a parameter of the current model."""
    flat = _flat(idata)
    missing = sorted(latent_sites(data, priors) - set(flat))
    if missing:
        raise IncompatibleVersion(
            f"the posterior has no draws of {', '.join(missing)}: it was fitted by an earlier "
            "revision of the model; refit (cohort fit, or a refit on the server) to serve it")
    sites = {k: jnp.asarray(v) for k, v in flat.items()}
    params, combo_logpost = jax.jit(lambda d: jax.lax.map(
        lambda one: _replay(data, priors, one), d, batch_size=batch_size))(sites)

    def cast(x: np.ndarray | Array) -> Array:
        return jnp.asarray(x, dtype)

    draws = PosteriorDraws(
        attr_effect=cast(params.attr_effect), product_effect=cast(params.product_effect),
        tau_product=cast(flat["tau_product"]), disease_effect=cast(params.disease_effect),
        tau_disease=cast(flat["tau_disease"]), tau_trial=cast(flat["tau_trial"]),
        trial_corr_chol=cast(flat["trial_corr_chol"]), ld_effect=cast(params.ld_effect),
        alpha=cast(params.alpha), gamma=cast(params.gamma), cuts=cast(params.cuts),
        peak_a=cast(params.kin_a[:, PEAK]), peak_b=cast(params.kin_b[:, PEAK]),
        peak_s=cast(params.kin_s[:, PEAK]), log_combo_prior=cast(params.log_combo_prior),
        combo_logpost=cast(combo_logpost), nodes=cast(data.nodes),
        log_weights=cast(data.log_weights), gvhd_eligible=jnp.asarray(GVHD_ELIGIBLE))
    catalogue = Catalogue(data.index, np.asarray(data.compatible), data.index.product_targets,
                          int(draws.alpha.shape[0]))
    return draws, catalogue
