"""Posterior predictive checks: every reported count of the fitted arms beside the
distribution the fitted model predicts for it.

In-sample (each arm keeps its own trial effect), so a well-specified model covers the
observed counts at least as often as the nominal level; counts far in the tails point at
arms the model cannot reproduce (a different endpoint definition, a data error, a missing
covariate). Out-of-sample calibration is leave-one-trial-out's job (cohort/loto.py), which
uses the same exact predictive distributions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import arviz as az
import jax
import numpy as np
import pandas as pd

from cohort.loto import central_interval, count_predictions, flat_posterior, predicted_rates
from cohort.model import ModelData

LEVELS = (0.5, 0.9)


def _percent(level: float) -> int:
    return round(level * 100)


def check_counts(arms: pd.DataFrame, rates: Mapping[str, np.ndarray],
                 arm_order: tuple[str, ...], levels: Sequence[float] = LEVELS) -> pd.DataFrame:
    """One row per reported count of `arms` given per-draw arm rates (`predicted_rates`):
    observed, predictive mean, central intervals at `levels` (`lo90`, `hi90`, `in90`, ...)
    and the smaller predictive tail probability of the observed count (small = surprising)."""
    rows = []
    for c in count_predictions(arms, rates, arm_order, range(len(arms))):
        cdf = np.cumsum(c.pmf)
        row = {"trial": c.trial, "arm_id": c.arm_id, "disease": c.disease,
               "outcome": c.outcome, "n": c.n, "observed": c.observed,
               "predicted_mean": float(np.arange(c.n + 1) @ c.pmf)}
        for level in levels:
            low, high = central_interval(c.pmf, level)
            pct = _percent(level)
            row |= {f"lo{pct}": low, f"hi{pct}": high, f"in{pct}": low <= c.observed <= high}
        upper = 1.0 - (cdf[c.observed - 1] if c.observed else 0.0)  # P(count >= observed)
        row["tail_probability"] = float(min(cdf[c.observed], upper))
        rows.append(row)
    return pd.DataFrame(rows)


def ppc_table(rng_key: jax.Array, arms: pd.DataFrame, data: ModelData,
              idata: az.InferenceData, levels: Sequence[float] = LEVELS) -> pd.DataFrame:
    """`check_counts` of the arms a version was fitted on (`arms` and `data` from the same
    snapshot, e.g. workflow.load_dataset and workflow.load_fitted) under its posterior."""
    rates = predicted_rates(rng_key, data, flat_posterior(idata))
    return check_counts(arms, rates, data.index.arms, levels)


def ppc_coverage(table: pd.DataFrame, levels: Sequence[float] = LEVELS) -> pd.DataFrame:
    """Per outcome (and `all`): counts checked and the share inside each interval."""
    columns = [f"in{_percent(level)}" for level in levels]
    per_outcome = table.groupby("outcome", sort=False)[columns].mean()
    per_outcome.insert(0, "counts", table.groupby("outcome", sort=False).size())
    per_outcome.loc["all"] = [len(table), *table[columns].mean()]
    per_outcome["counts"] = per_outcome["counts"].astype(int)
    return per_outcome.rename(columns={c: f"coverage{c[2:]}" for c in columns}).reset_index()
