"""Per-draw results → answers: rate and count summaries, paired contrasts, sweep curves.

Host-side numpy on the draws the kernel returned (a few thousand numbers per outcome):
exact quantiles over exactly `draw_count` draws, no padding to mask.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from cohort import RESEARCH_USE_NOTICE
from cohort.engine.kernel import OUTCOMES
from cohort.spec import CohortSpec

LABELS = dict(zip(OUTCOMES, ("ORR", "CR", "CRS any grade", "CRS grade >=3", "ICANS any grade",
                              "ICANS grade >=3", "Neutropenia grade >=3", "GvHD any grade",
                              "ORR without CRS >=3", "CR without CRS >=3"), strict=True))


class CohortDraws(NamedTuple):
    """Per-draw results of one spec (leading axis = draw_count)."""

    rates: np.ndarray  # (D, O) population rates, OUTCOMES order
    counts: np.ndarray  # (D, O) counts in a trial of patient_count
    peak_median: np.ndarray  # (D,) median peak in the spec's kinetic unit


class OutcomeSummary(NamedTuple):
    outcome: str
    rate_mean: float
    rate_quantiles: tuple[float, ...]  # at Prediction.quantiles
    count_mean: float
    count_quantiles: tuple[int, ...]  # of the count in a trial of patient_count
    prob_count_at_least: tuple[tuple[int, float], ...]  # (k, P(count ≥ k))


class PeakSummary(NamedTuple):
    unit: str
    median_mean: float  # posterior mean of the cohort's median peak
    median_quantiles: tuple[float, ...]


class Prediction(NamedTuple):
    spec: CohortSpec
    quantiles: tuple[float, ...]
    outcomes: tuple[OutcomeSummary, ...]
    peak: PeakSummary
    notice: str = RESEARCH_USE_NOTICE


class Contrast(NamedTuple):
    """a − b for one outcome over paired draws (common random numbers)."""

    outcome: str
    difference_mean: float
    difference_quantiles: tuple[float, ...]
    ratio_quantiles: tuple[float | None, ...]  # None where b's rate is 0 (e.g. GvHD)
    prob_greater: float  # P(rate_a > rate_b)
    count_difference_quantiles: tuple[int, ...]
    prob_count_greater: float  # P(count_a > count_b)


class Comparison(NamedTuple):
    a: Prediction
    b: Prediction
    contrasts: tuple[Contrast, ...]
    notice: str = RESEARCH_USE_NOTICE


class Sweep(NamedTuple):
    path: str
    values: tuple[float, ...]
    predictions: tuple[Prediction, ...]
    notice: str = RESEARCH_USE_NOTICE

    def curve(self, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, lowest quantile, highest quantile) of one rate along the sweep."""
        i = OUTCOMES.index(outcome)
        rows = [p.outcomes[i] for p in self.predictions]
        return (np.array([r.rate_mean for r in rows]),
                np.array([r.rate_quantiles[0] for r in rows]),
                np.array([r.rate_quantiles[-1] for r in rows]))


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def _ints(counts: np.ndarray, quantiles: tuple[float, ...]) -> tuple[int, ...]:
    # inverted_cdf: a quantile of a count is a count
    return tuple(int(v) for v in np.quantile(counts, quantiles, method="inverted_cdf"))


def summarize(spec: CohortSpec, draws: CohortDraws) -> Prediction:
    """Means, quantiles and P(count ≥ k) of every outcome (one vectorised pass each)."""
    q = spec.quantiles
    rate_q = np.quantile(draws.rates, q, axis=0)
    count_q = np.quantile(draws.counts, q, axis=0, method="inverted_cdf").astype(int)
    ks = np.asarray(spec.count_thresholds, dtype=int)
    at_least = (draws.counts[:, :, None] >= ks).mean(axis=0)
    outcomes = tuple(OutcomeSummary(
        name, float(draws.rates[:, i].mean()), _floats(rate_q[:, i]),
        float(draws.counts[:, i].mean()), tuple(int(c) for c in count_q[:, i]),
        tuple((int(k), float(p)) for k, p in zip(ks, at_least[i], strict=True)))
        for i, name in enumerate(OUTCOMES))
    peak = PeakSummary(spec.kinetic_unit, float(draws.peak_median.mean()),
                       _floats(np.quantile(draws.peak_median, q)))
    return Prediction(spec, q, outcomes, peak)


def _ratio_quantiles(a: np.ndarray, b: np.ndarray, quantiles: tuple[float, ...]) -> tuple:
    if np.any(b <= 0):
        return tuple(None for _ in quantiles)
    return _floats(np.quantile(a / b, quantiles))


def contrast(a: CohortDraws, b: CohortDraws, quantiles: tuple[float, ...]) -> tuple[Contrast, ...]:
    """Paired contrasts a − b per outcome; a contrast of a spec with itself is exactly 0."""
    out = []
    for i, name in enumerate(OUTCOMES):
        ra, rb, ca, cb = a.rates[:, i], b.rates[:, i], a.counts[:, i], b.counts[:, i]
        out.append(Contrast(name, float(np.mean(ra - rb)), _floats(np.quantile(ra - rb, quantiles)),
                            _ratio_quantiles(ra, rb, quantiles), float(np.mean(ra > rb)),
                            _ints(ca - cb, quantiles), float(np.mean(ca > cb))))
    return tuple(out)


def as_json(value: Any) -> Any:
    """Predictions, comparisons and sweeps (NamedTuples, dataclasses) as JSON values."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: as_json(v) for k, v in value._asdict().items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
