"""The joint hierarchical model of DESIGN §4: data arrays, priors, likelihood, model.

Fit: `data = build_model_data(arms, kinetic_strata, patients)`, then NUTS on
`cohort_model` with `model_kwargs={"data": data}`. Predict arm counts:
`Predictive(cohort_model, samples)(key, data=data, predictive=True)`.
"""

from cohort.model.data import (
    COMBOS,
    LEVELS,
    OUTCOMES,
    UNITS,
    DataIndex,
    ModelData,
    build_model_data,
)
from cohort.model.features import FEATURES, ld_feature
from cohort.model.model import (
    Params,
    cohort_model,
    latent_sites,
    params_from_samples,
    sample_params,
)
from cohort.model.priors import SIGMA_E, Priors

__all__ = [
    "COMBOS",
    "FEATURES",
    "LEVELS",
    "OUTCOMES",
    "SIGMA_E",
    "UNITS",
    "DataIndex",
    "ModelData",
    "Params",
    "Priors",
    "build_model_data",
    "cohort_model",
    "latent_sites",
    "ld_feature",
    "params_from_samples",
    "sample_params",
]
