"""Every prior of the joint model in one place, with its unit and meaning.

Scales: "logit" = log-odds of an outcome category; "E-sd" = one within-arm standard
deviation of the latent standardised expansion E (σ_E = 1 fixes the scale of E);
"log unit" = natural log of a kinetic value in its assay unit (cells/uL or copies/ug).
The LD features f are dimensionless (DESIGN §4). docs/MODEL.md explains each choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Within-arm sd of E. Fixed, not a prior: with it free, (σ_E, b_u, γ, all E effects)
# could be rescaled together without changing the likelihood.
SIGMA_E = 1.0


@dataclass(frozen=True)
class Priors:
    """Hyper-parameters; every field is a prior scale/location with its unit."""

    # Attribute contrasts vs the reference level (autologous, CAR-T, 4-1BB, CD19),
    # Normal(0, scale) per outcome dimension [E-sd for E, logit otherwise].
    attr_scale: float = 1.0
    # Sd of product-level deviations δ_{p,k} ~ N(0, τ_prod,k): τ ~ HalfNormal(scale).
    tau_prod_scale: float = 0.5
    # Sd of disease effects θ_{d,k}: τ_dis,k ~ HalfNormal(scale).
    tau_dis_scale: float = 0.5
    # Sd of trial effects u_{t,k}: τ_trial,k ~ HalfNormal(scale); correlation Ω ~ LKJ(eta).
    # (τ_prod, τ_trial are sampled as total and share, the same prior: model.py.)
    tau_trial_scale: float = 0.5
    lkj_eta: float = 2.0
    # LD effects β_{agent,k} per unit of f (f_flu, f_cy, f_benda, f_cd52), Normal(0, scale)
    # [E-sd or logit per unit f], acting on f − f_ref (features.LD_REFERENCE: the usual
    # Flu 30×3 + Cy 400×3); f_flu ≈ 0.69 at Flu 30×3 and 0 when not given.
    ld_scale: float = 1.0
    # Expansion slopes γ_k ≥ 0 for R, C, I, N, G: HalfNormal(scale) [logit per E-sd].
    gamma_scale: float = 1.0
    # Lower cut-point c1 ~ Normal(0, scale) [logit]; gap c2 − c1 ~ LogNormal(log loc, s).
    cut_scale: float = 2.0
    cut_gap_loc: float = 1.5
    cut_gap_log_sd: float = 0.75
    # Intercepts of neutropenia g≥3 and GvHD [logit]: Normal(loc, scale).
    alpha_loc: tuple[float, float] = (0.0, -1.5)
    alpha_scale: float = 2.0
    # Kinetic measurement model log y = a_u + b_u E + s_u·e per measure (peak, AUC0-28) and
    # unit (cells/uL, copies/ug). a_u ~ Normal(loc, a_sd) [log unit]: peak ≈ 50 cells/uL,
    # ≈ 20,000 copies/ug; AUC0-28 ≈ 10 days × peak [log unit·day].
    a_loc: tuple[tuple[float, float], tuple[float, float]] = (
        (math.log(50.0), math.log(20_000.0)),
        (math.log(500.0), math.log(200_000.0)),
    )
    a_sd: float = 2.0
    # b_u > 0 ~ LogNormal(log loc, s) [log unit per E-sd]: CAR-T peaks span decades.
    b_loc: float = 1.0
    b_log_sd: float = 0.5
    # Patient-level residual s_u ~ HalfNormal [log unit]; arm-level reporting error of a
    # median s_arm ~ HalfNormal [log unit] (extraction, different assays/data cuts).
    s_scale: float = 1.0
    s_arm_scale: float = 0.5
    # Dirichlet concentration of the attribute-level frequencies (unknown attributes).
    level_concentration: float = 1.0
    # Imputation of unknown LD (see features.py): sd on the f scale of a folded normal
    # centred on the usual regimen's value; [agent given in the usual regimen, agent not
    # in the usual regimen (centred on 0)]. Anti-CD52 unknown: exposed fraction
    # sigmoid(loc + scale·z), loc by cell source [autologous, other].
    ld_impute_sd: tuple[float, float] = (0.15, 0.15)
    cd52_logit_loc: tuple[float, float] = (-3.0, -0.5)
    cd52_logit_scale: float = 1.5
    # Patients per kinetic stratum when the source does not state n.
    default_stratum_n: float = 20.0
