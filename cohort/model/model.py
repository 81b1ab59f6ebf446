"""The joint hierarchical model (DESIGN §4) as a plain NumPyro function.

`cohort_model(data)` conditions on the data in `data` (arms, strata, patients) through
one factor per product (`product_loglik`, the exact mixture over unknown attributes);
`cohort_model(data, predictive=True)` instead samples the arms' counts (sites named like
the contract columns: n_orr, n_cr, n_crs_any, ...), for numpyro.infer.Predictive.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro import handlers

from cohort.model.data import BINARY_COUNTS, LEVELS, ORDINAL_COUNTS, OUTCOMES, ModelData
from cohort.model.features import Impute
from cohort.model.likelihood import Array, mixture_loglik, segment_total
from cohort.model.priors import Priors
from cohort.model.terms import ArmState, arm_loglik, arm_state, patient_loglik, stratum_loglik

K = len(OUTCOMES)
DEFAULT_PRIORS = Priors()


class Params(NamedTuple):
    """Parameters in natural units (deterministic sites of the same names)."""

    attr_effect: Array  # (D, K) attribute contrasts
    product_effect: Array  # (P, K) δ
    disease_effect: Array  # (Dz, K) θ
    trial_effect: Array  # (T, K) u
    ld_effect: Array  # (4, K) β per LD feature
    alpha: Array  # (K,) intercepts (0 for E and the ordinal outcomes)
    gamma: Array  # (K,) expansion slopes (0 for E)
    cuts: Array  # (3, 2) cut-points of response, CRS, ICANS
    kin_a: Array  # (2, U) per measure (peak, AUC0-28) and unit
    kin_b: Array
    kin_s: Array
    kin_s_arm: Array  # (2,)
    ld: Array  # (L, 4) LD features, imputed where unknown
    log_combo_prior: Array  # (C,) log ω of each attribute combination


def _float(x: np.ndarray) -> Array:
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _group_z(name: str, size: int) -> Array:
    with numpyro.plate(name, size):
        return numpyro.sample(f"{name}_z", dist.Normal(0.0, 1.0).expand([K]).to_event(1))


def _effects(name: str, size: int, scale: float) -> Array:
    """Non-centred group effects z·τ_k, (size, K), τ_k ~ HalfNormal(scale)."""
    tau = numpyro.sample(f"tau_{name}", dist.HalfNormal(scale).expand([K]).to_event(1))
    return numpyro.deterministic(f"{name}_effect", _group_z(name, size) * tau)


def _product_trial_scales(priors: Priors) -> tuple[Array, Array]:
    """τ_product,k ~ HalfNormal(s_p) and τ_trial,k ~ HalfNormal(s_t), independent, sampled
    exactly as a total and a share: with x, y ~ HalfNormal(1), r² = x² + y² ~ χ²₂ and
    ρ = x²/r² ~ Beta(½, ½) are independent, and τ_p = s_p·r·√ρ, τ_t = s_t·r·√(1−ρ).
    Same prior; why: most products are studied in one trial, so the data fix the total
    (r) but hardly the split (ρ) — a straight direction for NUTS, where (τ_p, τ_t) made a
    curved ridge that diagonal and dense metrics alike sample slowly."""
    r2 = numpyro.sample("tau_total_sq", dist.Exponential(0.5).expand([K]).to_event(1))
    share = numpyro.sample("tau_product_share", dist.Beta(0.5, 0.5).expand([K]).to_event(1))
    r = jnp.sqrt(r2)
    return (numpyro.deterministic("tau_product", priors.tau_prod_scale * r * jnp.sqrt(share)),
            numpyro.deterministic("tau_trial",
                                  priors.tau_trial_scale * r * jnp.sqrt(1.0 - share)))


def _trial_effects(size: int, tau: Array, priors: Priors) -> Array:
    """u_t ~ MVN(0, diag τ Ω diag τ), Ω ~ LKJ(η), non-centred through the Cholesky factor."""
    chol = numpyro.sample("trial_corr_chol", dist.LKJCholesky(K, priors.lkj_eta))
    return numpyro.deterministic("trial_effect", (_group_z("trial", size) @ chol.T) * tau)


def _ld_features(data: ModelData, priors: Priors) -> Array:
    """Observed LD features with latent values where unknown (features.Impute).

    jnp throughout: the data may be traced (fit.py passes arrays as arguments)."""
    value = _float(data.ld.value)
    if data.index.n_ld_unknown == 0:
        return value
    unknown = jnp.nonzero(jnp.ravel(data.ld.unknown), size=data.index.n_ld_unknown)[0]
    kind = jnp.ravel(data.ld.kind)[unknown]
    sd = jnp.where(kind >= Impute.CD52_AUTOLOGOUS, priors.cd52_logit_scale,
                   jnp.asarray(priors.ld_impute_sd)[jnp.minimum(kind, 1)])
    loc = jnp.where(kind == Impute.CD52_AUTOLOGOUS, priors.cd52_logit_loc[0],
                    jnp.where(kind == Impute.CD52_OTHER, priors.cd52_logit_loc[1],
                              jnp.ravel(data.ld.loc)[unknown]))
    with numpyro.plate("ld_unknown", data.index.n_ld_unknown):
        z = numpyro.sample("ld_z", dist.Normal(0.0, 1.0))
    x = _float(loc) + _float(sd) * z
    imputed = numpyro.deterministic(
        "ld_imputed", jnp.where(kind >= Impute.CD52_AUTOLOGOUS, jax.nn.sigmoid(x), jnp.abs(x)))
    return value.ravel().at[unknown].set(imputed).reshape(value.shape)


def params_from_samples(samples: dict[str, Array], data: ModelData,
                        priors: Priors = DEFAULT_PRIORS) -> Params:
    """Params of each draw of `samples` (one leading draw axis; every sampled site of
    `sample_params` present, e.g. a posterior) — the predictive engine's entry point."""
    def one(draw: dict[str, Array]) -> Params:
        return handlers.substitute(handlers.seed(sample_params, 0), data=draw)(data, priors)

    return jax.vmap(one)(samples)


def latent_sites(data: ModelData, priors: Priors = DEFAULT_PRIORS) -> frozenset[str]:
    """Names of the sampled parameter sites: what a posterior of this model must hold.

    Traced abstractly (eval_shape): run eagerly, every operation would compile on its
    own — ~12 s on a 2-core CPU, on the server's start-up path."""
    names: list[str] = []

    def sites(key: Array) -> int:
        trace = handlers.trace(handlers.seed(sample_params, key)).get_trace(data, priors)
        names.extend(name for name, site in trace.items() if site["type"] == "sample")
        return 0

    jax.eval_shape(sites, jax.random.PRNGKey(0))
    return frozenset(names)


def _level_prior(data: ModelData, priors: Priors) -> Array:
    """log ω_c = Σ_attribute log frequency of the combination's level (Dirichlet prior)."""
    total = 0.0
    for column, (attr, names) in enumerate(LEVELS.items()):
        freq = numpyro.sample(f"level_freq_{attr}",
                              dist.Dirichlet(jnp.full(len(names), priors.level_concentration)))
        total = total + jnp.log(freq)[data.combo_levels[:, column]]
    return total


def _cut_points(gamma: Array, priors: Priors) -> Array:
    """Cut-points (3, 2) of response, CRS and ICANS, sampled on the arms' marginal scale.

    An arm's rate is ∫ σ(γE − c) N(E; μ, 1) dE ≈ σ(κ(γμ − c)) with κ = (1 + πγ²/8)^-½
    (the logistic-normal approximation), so the data fix κ·c₁ and κ·(c₂ − c₁); drawn
    directly, each gap and its γ lay on a ridge (posterior correlation 0.77–0.95 on the
    bundled data, the slowest directions of the fit). The prior is unchanged:
    c₁ ~ N(0, s) ⇔ κc₁ ~ N(0, κs), and log gap ~ N(log g, s_g) ⇔
    log(κ·gap) ~ N(log g + log κ, s_g) (a shift given γ, unit Jacobian)."""
    kappa = 1.0 / jnp.sqrt(1.0 + jnp.pi / 8.0 * gamma**2)
    low = numpyro.sample("cut_low_marginal",
                         dist.Normal(0.0, priors.cut_scale * kappa).to_event(1)) / kappa
    log_gap = numpyro.sample("cut_gap_marginal_log",
                             dist.Normal(np.log(priors.cut_gap_loc) + jnp.log(kappa),
                                         priors.cut_gap_log_sd).to_event(1))
    gap = jnp.exp(log_gap) / kappa
    return numpyro.deterministic("cuts", jnp.stack([low, low + gap], axis=-1))


def sample_params(data: ModelData, priors: Priors) -> Params:
    """All parameter sites; see priors.py for units and docs/MODEL.md for meaning."""
    index = data.index
    with numpyro.plate("attribute", len(index.attr_columns)):
        attr = numpyro.sample("attr_effect", dist.Normal(0.0, priors.attr_scale).expand([K])
                              .to_event(1))
    ld_effect = numpyro.sample("ld_effect", dist.Normal(0.0, priors.ld_scale).expand([4, K])
                               .to_event(2))
    gamma = numpyro.sample("gamma", dist.HalfNormal(priors.gamma_scale).expand([K - 1])
                           .to_event(1))
    alpha = numpyro.sample("alpha", dist.Normal(np.array(priors.alpha_loc), priors.alpha_scale)
                           .to_event(1))
    a = numpyro.sample("kin_a", dist.Normal(np.array(priors.a_loc), priors.a_sd).to_event(2))
    b = numpyro.sample("kin_b", dist.LogNormal(np.log(priors.b_loc), priors.b_log_sd)
                       .expand([2, 2]).to_event(2))
    s = numpyro.sample("kin_s", dist.HalfNormal(priors.s_scale).expand([2, 2]).to_event(2))
    s_arm = numpyro.sample("kin_s_arm", dist.HalfNormal(priors.s_arm_scale).expand([2])
                           .to_event(1))
    zeros = jnp.zeros(K - 2, dtype=alpha.dtype)
    tau_product, tau_trial = _product_trial_scales(priors)
    return Params(
        attr_effect=attr, ld_effect=ld_effect,
        product_effect=numpyro.deterministic(
            "product_effect", _group_z("product", len(index.products)) * tau_product),
        disease_effect=_effects("disease", len(index.diseases), priors.tau_dis_scale),
        trial_effect=_trial_effects(len(index.trials), tau_trial, priors),
        alpha=jnp.concatenate([zeros, alpha]), gamma=jnp.concatenate([zeros[:1], gamma]),
        cuts=_cut_points(gamma[:3], priors),
        kin_a=a, kin_b=b, kin_s=s, kin_s_arm=s_arm, ld=_ld_features(data, priors),
        log_combo_prior=_level_prior(data, priors))


@partial(jax.jit, static_argnums=2)
def _cell_loglik(params: Params, data: ModelData, default_n: float) -> tuple[Array, ArmState]:
    dtype = jnp.result_type(float)
    rows, log_weights = data.rows, jnp.asarray(data.log_weights, dtype)
    nodes = jnp.asarray(data.nodes, dtype)
    state = arm_state(params, rows, nodes, log_weights)
    total = arm_loglik(params, rows, state, dtype)
    n_rows = len(rows.arm)
    if len(data.strata.row):
        total = total + segment_total(stratum_loglik(params, data.strata, rows, state,
                                                     log_weights, default_n, dtype),
                                      data.strata.row, n_rows)
    if len(data.patients.row):
        total = total + segment_total(patient_loglik(params, data.patients, state, nodes,
                                                     log_weights, dtype),
                                      data.patients.row, n_rows)
    return segment_total(total, rows.cell, data.compatible.size), state


def cell_loglik(params: Params, data: ModelData, priors: Priors) -> tuple[Array, ArmState]:
    """Log-likelihood of all data per (product, combination) cell, flattened (P·C,).

    One compiled program (data arrays are arguments, names are dropped), so that eager
    model evaluations (initialisation, tracing) do not compile every operation."""
    return _cell_loglik(params, data._replace(index=None), priors.default_stratum_n)


def _sample_counts(params: Params, data: ModelData, cells: Array, state: ArmState) -> None:
    """Predictive counts per arm (contract column names), with each product's unknown
    attributes drawn from their conditional posterior given the data in `data`."""
    rows, n_combos = data.rows, data.compatible.shape[1]
    logits = jnp.where(data.compatible, cells.reshape(data.compatible.shape)
                       + params.log_combo_prior, -jnp.inf)
    with numpyro.plate("product", len(data.index.products)):
        combo = numpyro.sample("attribute_combo", dist.Categorical(logits=logits))
    chosen = rows.cell == rows.product * n_combos + combo[rows.product]
    n_arms = len(data.index.arms)
    cdf = segment_total(jnp.where(chosen[:, None, None], state.cdf, 0.0), rows.arm, n_arms)
    p_binary = segment_total(jnp.where(chosen[:, None], state.p_binary, 0.0), rows.arm, n_arms)
    # The rates behind the counts: exact predictive densities (LOTO) need them, not draws.
    numpyro.deterministic("arm_cdf", cdf)
    numpyro.deterministic("arm_p_binary", p_binary)
    first = np.unique(rows.arm, return_index=True)[1]
    n_treated = jnp.asarray(rows.kin_n[first].astype(np.int64))  # default int width
    denominators = (jnp.asarray(rows.n_efficacy[first].astype(np.int64)), n_treated, n_treated)
    with numpyro.plate("arm", n_arms):
        for k, ((low, top), n) in enumerate(zip(ORDINAL_COUNTS, denominators, strict=True)):
            p1, p2 = cdf[:, k, 0], cdf[:, k, 1]
            n_low = numpyro.sample(low, dist.Binomial(n, p1))
            numpyro.sample(top, dist.Binomial(n_low, jnp.clip(p2 / p1, 0.0, 1.0)))
        for k, name in enumerate(BINARY_COUNTS):
            numpyro.sample(name, dist.Binomial(n_treated, p_binary[:, k]))


def cohort_model(data: ModelData, priors: Priors = DEFAULT_PRIORS,
                 predictive: bool = False) -> None:
    """The joint model: condition on `data` or, with predictive=True, sample arm counts."""
    params = sample_params(data, priors)
    cells, state = cell_loglik(params, data, priors)
    if predictive:
        _sample_counts(params, data, cells, state)
        return
    with numpyro.plate("product", len(data.index.products)):
        numpyro.factor("product_loglik",
                       mixture_loglik(cells, data.compatible, params.log_combo_prior))
