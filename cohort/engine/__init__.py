"""Posterior-predictive virtual cohorts (DESIGN §6): rates, counts, kinetics, contrasts,
dose–response sweeps and raw virtual patients from a fitted model version.

    engine = Engine.load(fitted.data, fitted.idata)   # fitted = workflow.load_fitted(home)
    engine.warm()
    prediction = engine.predict(parse_spec({...}))
"""

from cohort.engine.cohort import Engine, EngineConfig, PatientBatch, bucket
from cohort.engine.covariates import Covariates, spec_covariates
from cohort.engine.kernel import OUTCOMES
from cohort.engine.posterior import Catalogue, PosteriorDraws, load_posterior
from cohort.engine.summary import (
    CohortDraws,
    Comparison,
    Contrast,
    OutcomeSummary,
    PeakSummary,
    Prediction,
    Sweep,
)

__all__ = [
    "OUTCOMES",
    "Catalogue",
    "CohortDraws",
    "Comparison",
    "Contrast",
    "Covariates",
    "Engine",
    "EngineConfig",
    "OutcomeSummary",
    "PatientBatch",
    "PeakSummary",
    "PosteriorDraws",
    "Prediction",
    "Sweep",
    "bucket",
    "load_posterior",
    "spec_covariates",
]
