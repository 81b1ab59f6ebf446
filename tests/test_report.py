"""Reader-facing tables, sentences and plots, from predictions with known draws."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

from cohort.engine import OUTCOMES, CohortDraws, Comparison, Sweep
from cohort.engine.summary import contrast, summarize
from cohort.report import (
    before_after_plot,
    comparison_frame,
    describe_outcome,
    ppc_plot,
    prediction_frame,
    sweep_plot,
    trace_plot,
)
from cohort.spec import CohortSpec, Product

SPEC = CohortSpec(product=Product(cell_type="CAR-T", target="CD19"), disease="LBCL",
                  patient_count=30, draw_count=1000, quantiles=(0.05, 0.5, 0.95),
                  count_thresholds=(10,))
PNG = b"\x89PNG"


def _draws(rate: float, seed: int = 0) -> CohortDraws:
    """1000 draws with every outcome's rate spread evenly around `rate`."""
    rates = np.tile(np.linspace(rate - 0.1, rate + 0.1, 1000)[:, None], (1, len(OUTCOMES)))
    counts = np.random.default_rng(seed).binomial(30, rates)
    return CohortDraws(rates, counts, np.full(1000, 2e4))


def test_prediction_frame_and_sentence_carry_the_summary_numbers() -> None:
    prediction = summarize(SPEC, _draws(0.5))
    frame = prediction_frame(prediction).set_index("outcome")
    assert list(frame.columns) == [
        "rate mean", "rate q5", "rate q50", "rate q95", "count of 30 q5", "count of 30 q50",
        "count of 30 q95", "P(count>=10)"]
    assert frame.loc["CR", "rate mean"] == pytest.approx(0.5)
    assert frame.loc["CR", "rate q5"] == pytest.approx(0.41, abs=0.002)
    text = describe_outcome(prediction, "cr")
    cr = prediction.outcomes[OUTCOMES.index("cr")]
    assert text.startswith("CR: population rate 50% (posterior mean; 90% credible interval "
                           "41%–59%)")
    assert f"90% predictive interval {cr.count_quantiles[0]}–{cr.count_quantiles[-1]}" in text
    assert f"P(at least 10) = {cr.prob_count_at_least[0][1]:.2f}" in text
    with pytest.raises(ValueError, match="unknown outcome"):
        describe_outcome(prediction, "CR")


def test_comparison_frame_reports_paired_differences() -> None:
    a, b = _draws(0.6), _draws(0.4)
    comparison = contrast(a, b, SPEC.quantiles)
    frame = comparison_frame(Comparison(summarize(SPEC, a), summarize(SPEC, b), comparison))
    row = frame.set_index("outcome").loc["ORR"]
    assert row["difference mean"] == pytest.approx(0.2)
    assert row["difference q5"] == pytest.approx(0.2) and row["P(A>B)"] == 1.0
    assert "count difference q50" in frame.columns


def test_plots_are_written_as_png(tmp_path: Path) -> None:
    sweep = Sweep("ld.flu_mg_m2_day", (10.0, 30.0),
                  (summarize(SPEC, _draws(0.3)), summarize(SPEC, _draws(0.6))))
    assert sweep_plot(sweep, tmp_path / "s.png").read_bytes()[:4] == PNG
    table = pd.DataFrame({"outcome": ["ORR", "ORR", "CR"], "arm_id": ["a", "b", "a"],
                          "n": [10, 20, 10], "observed": [5, 19, 1], "predicted_mean": [6, 12, 3],
                          "lo50": [5, 10, 2], "hi50": [7, 14, 4], "lo90": [3, 8, 1],
                          "hi90": [9, 16, 5], "in90": [True, False, True]})
    assert ppc_plot(table, tmp_path / "p.png", "t", ("ORR", "CR")).read_bytes()[:4] == PNG
    idata = az.from_dict(posterior={"gamma": np.random.default_rng(0).normal(size=(2, 50, 3))})
    assert trace_plot(idata, tmp_path / "t.png", ["gamma"]).read_bytes()[:4] == PNG
    before, after = summarize(SPEC, _draws(0.3)), summarize(SPEC, _draws(0.6))
    path = before_after_plot(before, after, tmp_path / "b.png", "refit",
                             observed={"cr": 0.55, "crs_g3": 0.03})
    assert path.read_bytes()[:4] == PNG
