"""Leave-one-trial-out validation (DESIGN §5): refit without each trial, predict its counts.

A held-out trial stays in the model's data with its outcomes removed (counts and kinetic
medians emptied, its kinetic strata and patients dropped): the refit then learns nothing
from it, yet its covariates, unknown doses and attribute mixtures are handled by the same
code as in fitting, and its trial effect is a fresh draw from the population — exactly a
"new trial" prediction.

For each held-out arm and reported outcome the predictive distribution of the count is
exact given the posterior draws: the mixture over draws of Binomial(n, p_draw). It gives
the 50% / 90% central intervals (coverage) and the log predictive density, compared with
a pooled-by-disease beta-binomial baseline fitted to the training arms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import NamedTuple

import arviz as az
import jax
import numpy as np
import pandas as pd
from numpyro.infer import Predictive
from scipy import stats

from cohort.dataset import Dataset
from cohort.diagnostics import Gate
from cohort.fit import FitConfig, fit_model
from cohort.model import ModelData, cohort_model
from cohort.warmstart import WarmStart
from cohort.workflow import model_data

# (label, count column, denominator: "efficacy" | "treated", where p lives in the model's
# predictive sites: ("arm_cdf", outcome, cut) or ("arm_p_binary", column)).
OUTCOMES = (
    ("ORR", "n_orr", "efficacy", ("arm_cdf", 0, 0)),
    ("CR", "n_cr", "efficacy", ("arm_cdf", 0, 1)),
    ("CRS any", "n_crs_any", "treated", ("arm_cdf", 1, 0)),
    ("CRS g3+", "n_crs_g3", "treated", ("arm_cdf", 1, 1)),
    ("ICANS any", "n_icans_any", "treated", ("arm_cdf", 2, 0)),
    ("ICANS g3+", "n_icans_g3", "treated", ("arm_cdf", 2, 1)),
    ("Neutropenia g3+", "n_neut_g3", "treated", ("arm_p_binary", 0)),
    ("GvHD", "n_gvhd_any", "treated", ("arm_p_binary", 1)),
)
OUTCOME_COLUMNS = (*(column for _, column, _, _ in OUTCOMES), "peak_median", "auc28_median",
                   "tmax_median_days")
STRATUM_OUTCOMES = ("peak_median", "auc28_median", "tmax_median_days")
PATIENT_OUTCOMES = ("peak", "auc28", "tmax_days", "best_response", "crs_grade",
                    "icans_grade", "neut_g3", "gvhd")


class Held(NamedTuple):
    """One held-out count: where it is, what was seen, and how both models predicted it."""

    trial: str
    arm_id: str
    disease: str
    outcome: str
    observed: int
    n: int
    interval50: tuple[int, int]
    interval90: tuple[int, int]
    lpd_model: float
    lpd_baseline: float


def hold_out(dataset: Dataset, trial: str) -> Dataset:
    """The dataset with `trial`'s outcomes emptied: its arms, strata and patients keep
    their rows (covariates only), so the model's shapes are those of the full data and a
    refit reuses the full fit's compiled program and warm start."""
    arms = dataset.arms.copy()
    held = arms["trial"] == trial
    arms.loc[held, list(OUTCOME_COLUMNS)] = pd.NA
    held_ids = set(arms.loc[held, "arm_id"])
    strata, patients = dataset.kinetic_strata.copy(), dataset.patients.copy()
    strata.loc[strata["arm_id"].isin(held_ids),
               [c for c in STRATUM_OUTCOMES if c in strata]] = pd.NA
    held_patients = patients["arm_id"].isin(held_ids)
    patients.loc[held_patients, [c for c in PATIENT_OUTCOMES if c in patients]] = pd.NA
    kinetics = dataset.patient_kinetics
    return Dataset.from_tables({
        "arms": arms, "kinetic_strata": strata, "patients": patients,
        "patient_kinetics": kinetics[~kinetics["patient_id"].isin(
            patients.loc[held_patients, "patient_id"])],
    })


def predictive_pmf(p_draws: np.ndarray, n: int) -> np.ndarray:
    """P(count = x), x = 0..n, averaged over posterior draws of the rate."""
    x = np.arange(n + 1)
    return stats.binom.pmf(x[None, :], n, np.clip(p_draws, 0.0, 1.0)[:, None]).mean(axis=0)


def central_interval(pmf: np.ndarray, level: float) -> tuple[int, int]:
    """Smallest counts whose CDF reaches (1 − level)/2 and (1 + level)/2 (discrete, so the
    interval holds at least `level` of the mass)."""
    cdf = np.cumsum(pmf)
    tail = (1.0 - level) / 2.0
    return int(np.searchsorted(cdf, tail - 1e-12)), int(np.searchsorted(cdf, 1 - tail - 1e-12))


def baseline_pmf(train: pd.DataFrame, disease: str, column: str, denominator: pd.Series,
                 n: int) -> np.ndarray:
    """Beta-binomial predictive from a uniform prior updated with the pooled counts of the
    training arms of the same disease (all training arms when the disease has none)."""
    reported = train[column].notna()
    same = reported & (train["disease"] == disease)
    pool = same if same.any() else reported
    events = float(train.loc[pool, column].sum())
    total = float(denominator[pool].sum())
    return stats.betabinom.pmf(np.arange(n + 1), n, 1.0 + events, 1.0 + total - events)


def _denominators(arms: pd.DataFrame) -> dict[str, pd.Series]:
    return {"treated": arms["n_treated"], "efficacy": arms["n_efficacy"].fillna(arms["n_treated"])}


def _rates(samples: Mapping[str, np.ndarray], where: tuple, row: int) -> np.ndarray:
    site, *at = where
    return np.asarray(samples[site])[(slice(None), row, *at)]


def flat_posterior(idata: az.InferenceData) -> dict[str, np.ndarray]:
    """Posterior draws with chains and draws merged into one leading axis."""
    return {str(k): np.asarray(v).reshape(-1, *v.shape[2:]) for k, v in idata.posterior.items()}


def predicted_rates(rng_key: jax.Array, data: ModelData,
                    posterior: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-draw category probabilities of every arm of `data` (`arm_cdf`, `arm_p_binary`):
    the model in predictive mode, each arm with its own trial effect."""
    samples = Predictive(cohort_model, posterior_samples=dict(posterior),
                         return_sites=["arm_cdf", "arm_p_binary"])(
        rng_key, data=data, predictive=True)
    return {k: np.asarray(v) for k, v in samples.items()}


class CountPrediction(NamedTuple):
    """One reported count of an arm and the exact predictive distribution of it."""

    trial: str
    arm_id: str
    disease: str
    outcome: str  # label in OUTCOMES
    column: str
    denominator: str  # "efficacy" | "treated"
    observed: int
    n: int
    pmf: np.ndarray  # P(count = x), x = 0..n


def count_predictions(arms: pd.DataFrame, rates: Mapping[str, np.ndarray],
                      arm_order: tuple[str, ...], positions: Iterable[int],
                      ) -> Iterator[CountPrediction]:
    """Every reported count of the arms at `positions` (rows of `arms`) with its predictive
    pmf; structurally zero outcomes (GvHD after an autologous product) have nothing to test
    and are skipped."""
    denominators = _denominators(arms)
    for position in positions:
        arm = arms.iloc[position]
        row = arm_order.index(arm["arm_id"])
        for label, column, denominator, where in OUTCOMES:
            if pd.isna(arm[column]):
                continue
            n, observed = int(denominators[denominator].iloc[position]), int(arm[column])
            pmf = predictive_pmf(_rates(rates, where, row), n)
            if pmf[0] >= 1.0 - 1e-12:
                continue
            yield CountPrediction(arm["trial"], arm["arm_id"], arm["disease"], label, column,
                                  denominator, observed, n, pmf)


def score_trial(dataset: Dataset, trial: str, samples: Mapping[str, np.ndarray],
                arm_order: tuple[str, ...]) -> list[Held]:
    """Every reported count of `trial`'s arms against the model and the baseline."""
    arms = dataset.arms
    train = arms[arms["trial"] != trial]
    train_denominators = _denominators(train)
    positions = np.flatnonzero((arms["trial"] == trial).to_numpy())
    held: list[Held] = []
    for c in count_predictions(arms, samples, arm_order, positions):
        base = baseline_pmf(train, c.disease, c.column, train_denominators[c.denominator], c.n)
        held.append(Held(trial, c.arm_id, c.disease, c.outcome, c.observed, c.n,
                         central_interval(c.pmf, 0.5), central_interval(c.pmf, 0.9),
                         float(np.log(max(c.pmf[c.observed], 1e-300))),
                         float(np.log(max(base[c.observed], 1e-300)))))
    return held


def reportable_trials(dataset: Dataset) -> list[str]:
    """Trials with at least one reported count (the only ones LOTO can score)."""
    counts = [column for _, column, _, _ in OUTCOMES]
    has = dataset.arms[counts].notna().any(axis=1)
    return sorted(set(dataset.arms.loc[has, "trial"]))


class Fold(NamedTuple):
    """One refit without a trial: its scored counts and how the refit went."""

    held: list[Held]
    fit: dict[str, object]


def loto_folds(rng_key: jax.Array, dataset: Dataset, config: FitConfig, gate: Gate,
               trials: Iterable[str] | None = None,
               on_trial: Callable[[str, int, int], None] | None = None,
               init_from: WarmStart | None = None) -> Iterator[Fold]:
    """Refit without each trial, one fold at a time (so callers can save as they go).

    `init_from` (the full fit's adaptation) warm-starts every refit: a held-out fold has
    the full data's shapes, and its posterior is close to the full one."""
    chosen = list(trials) if trials is not None else reportable_trials(dataset)
    for number, trial in enumerate(chosen, start=1):
        if on_trial:
            on_trial(trial, number, len(chosen))
        key = jax.random.fold_in(rng_key, number)
        data = model_data(hold_out(dataset, trial))
        result = fit_model(key, cohort_model, {"data": data}, config, gate=gate,
                           init_from=init_from)
        rates = predicted_rates(jax.random.fold_in(key, 1), data,
                                flat_posterior(result.idata))
        d, t = result.diagnostics, result.timings
        yield Fold(score_trial(dataset, trial, rates, data.index.arms), {
            "trial": trial, "max_rhat": d.max_rhat, "min_ess_bulk": d.min_ess_bulk,
            "min_ess_tail": d.min_ess_tail, "divergences": d.divergences,
            "warm_started": result.warm_started, "num_warmup": result.num_warmup,
            "wall_s": t.wall_s, "compile_s": t.compile_s})


def run_loto(rng_key: jax.Array, dataset: Dataset, config: FitConfig, gate: Gate,
             trials: Iterable[str] | None = None,
             on_trial: Callable[[str, int, int], None] | None = None,
             init_from: WarmStart | None = None) -> tuple[list[Held], pd.DataFrame]:
    """Every fold of `loto_folds`: the scored counts and each refit's diagnostics."""
    folds = list(loto_folds(rng_key, dataset, config, gate, trials, on_trial, init_from))
    return [h for f in folds for h in f.held], pd.DataFrame([f.fit for f in folds])


def summarise(held: list[Held]) -> pd.DataFrame:
    """Per outcome: scored counts, coverage of the 50% / 90% intervals, total log predictive
    density of the model and the baseline (higher is better) and their difference."""
    frame = pd.DataFrame(held)
    for level in ("50", "90"):
        frame[f"in{level}"] = [lo <= x <= hi for x, (lo, hi) in
                               zip(frame.observed, frame[f"interval{level}"], strict=True)]
    table = frame.groupby("outcome", sort=False).agg(
        counts=("observed", "size"), coverage50=("in50", "mean"), coverage90=("in90", "mean"),
        lpd_model=("lpd_model", "sum"), lpd_baseline=("lpd_baseline", "sum"))
    table.loc["all"] = [len(frame), frame.in50.mean(), frame.in90.mean(),
                        frame.lpd_model.sum(), frame.lpd_baseline.sum()]
    table["lpd_gain"] = table.lpd_model - table.lpd_baseline
    return table.reset_index()
