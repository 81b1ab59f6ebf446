"""What a person reads: main effects and their forest plot, prediction and contrast tables,
dose–response, posterior-predictive and calibration plots (PNG files)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import arviz as az
import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

from cohort import RESEARCH_USE_NOTICE
from cohort.engine import OUTCOMES, Comparison, Prediction, Sweep
from cohort.engine.summary import LABELS
from cohort.model import FEATURES, DataIndex

# (label, site, index into the site's trailing axes) of the effects users ask about first.
# ld_effect is (feature, outcome); gamma is (R, C, I, N, G); attr_effect (attribute, outcome).
_LD = [(f"{agent} → expansion", "ld_effect", (FEATURES.index(agent), 0))
       for agent in FEATURES]
_GAMMA = [(f"expansion → {name}", "gamma", (k,)) for k, name in
          enumerate(("response", "CRS", "ICANS", "neutropenia g3+", "GvHD"))]


def _allogeneic(index: DataIndex) -> list[tuple[str, str, tuple[int, ...]]]:
    column = index.attr_columns.index("cell_source[allogeneic]")
    names = ("expansion", "response", "CRS")
    return [(f"allogeneic → {name}", "attr_effect", (column, k)) for k, name in enumerate(names)]


def main_effects(idata: az.InferenceData, index: DataIndex) -> pd.DataFrame:
    """Mean, sd and 95% interval of the LD, expansion-slope and allogeneic effects."""
    posterior = idata.posterior
    rows = []
    for label, site, at in _LD + _GAMMA + _allogeneic(index):
        draws = np.asarray(posterior[site]).reshape(-1, *posterior[site].shape[2:])[
            (slice(None), *at)]
        low, high = np.quantile(draws, [0.025, 0.975])
        rows.append({"effect": label, "mean": draws.mean(), "sd": draws.std(ddof=1),
                     "q2.5": low, "q97.5": high})
    return pd.DataFrame(rows)


def forest_plot(effects: pd.DataFrame, path: Path | str, title: str) -> Path:
    """Means with 95% intervals, one line per effect, written as PNG."""
    y = np.arange(len(effects))[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(effects) + 1.2))
    ax.hlines(y, effects["q2.5"], effects["q97.5"], color="tab:blue")
    ax.plot(effects["mean"], y, "o", color="tab:blue")
    ax.axvline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y, effects["effect"])
    ax.set_xlabel("effect (E-sd per unit LD feature, or logit per E-sd); 95% interval")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def calibration_plot(summary: pd.DataFrame, path: Path | str, title: str) -> Path:
    """LOTO coverage of the 50% and 90% predictive intervals per outcome vs nominal."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for level, marker in ((50, "o"), (90, "s")):
        ax.plot(summary[f"coverage{level}"], summary["outcome"], marker, ls="",
                label=f"{level}% interval")
        ax.axvline(level / 100, color="grey", ls="--", lw=0.8)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("share of held-out counts inside the interval (dashed: nominal)")
    ax.invert_yaxis()
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def _q(level: float) -> str:
    return f"q{level * 100:g}"


def prediction_frame(prediction: Prediction) -> pd.DataFrame:
    """One row per outcome: posterior mean and quantiles of the population rate, predictive
    quantiles of the count in a trial of `patient_count`, and P(count ≥ k) per threshold."""
    n, qs = prediction.spec.patient_count, prediction.quantiles
    rows = []
    for o in prediction.outcomes:
        row = {"outcome": LABELS[o.outcome], "rate mean": o.rate_mean}
        row |= {f"rate {_q(q)}": v for q, v in zip(qs, o.rate_quantiles, strict=True)}
        row |= {f"count of {n} {_q(q)}": c for q, c in zip(qs, o.count_quantiles, strict=True)}
        row |= {f"P(count>={k})": p for k, p in o.prob_count_at_least}
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per outcome: paired rate difference A − B (mean, quantiles), P(rate A >
    rate B) and quantiles of the count difference in trials of the same size."""
    qs = comparison.a.quantiles
    rows = []
    for c in comparison.contrasts:
        row = {"outcome": LABELS[c.outcome], "difference mean": c.difference_mean}
        row |= {f"difference {_q(q)}": v for q, v in zip(qs, c.difference_quantiles, strict=True)}
        row["P(A>B)"] = c.prob_greater
        row |= {f"count difference {_q(q)}": v
                for q, v in zip(qs, c.count_difference_quantiles, strict=True)}
        rows.append(row)
    return pd.DataFrame(rows)


SWEEP_OUTCOMES = ("orr", "cr", "crs_g3", "icans_g3", "neut_g3", "gvhd_any")


def sweep_plot(sweep: Sweep, path: Path | str,
               outcomes: Sequence[str] = SWEEP_OUTCOMES) -> Path:
    """Rate curves (posterior mean) with bands (outer quantiles) along the swept value."""
    columns = min(3, len(outcomes))
    rows = -(-len(outcomes) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.3 * rows + 0.6),
                             sharex=True, squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        mean, low, high = sweep.curve(outcome)
        ax.fill_between(sweep.values, low, high, alpha=0.25)
        ax.plot(sweep.values, mean, marker="o")
        ax.set(title=LABELS[outcome], ylim=(0, 1))
    for ax in axes.flat[len(outcomes):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(sweep.path)
    qs = sweep.predictions[0].quantiles
    fig.suptitle(f"posterior mean rate, band {qs[0]:g}–{qs[-1]:g} quantiles\n"
                 + RESEARCH_USE_NOTICE, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def ppc_plot(table: pd.DataFrame, path: Path | str, title: str,
             outcomes: Sequence[str] = ("ORR", "CR", "CRS g3+")) -> Path:
    """Observed proportion of each arm (dot; red outside the 90% interval) against its
    posterior predictive 50% (thick) and 90% (thin) intervals, one panel per outcome
    (a table from cohort.ppc.ppc_table; proportions so that arm sizes compare)."""
    panels = [table[table.outcome == o].sort_values("predicted_mean") for o in outcomes]
    height = 0.16 * max(len(p) for p in panels) + 1.5
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.2 * len(outcomes), height),
                             squeeze=False)
    for ax, outcome, rows in zip(axes[0], outcomes, panels, strict=True):
        y, n = np.arange(len(rows)), rows["n"].to_numpy()
        ax.hlines(y, rows["lo90"] / n, rows["hi90"] / n, color="tab:blue", lw=1)
        ax.hlines(y, rows["lo50"] / n, rows["hi50"] / n, color="tab:blue", lw=3.5)
        colour = np.where(rows["in90"], "black", "tab:red")
        ax.scatter(rows["observed"] / n, y, c=colour, s=14, zorder=3)
        ax.set_yticks(y, rows["arm_id"], fontsize=6)
        ax.set(xlim=(-0.02, 1.02), title=f"{outcome} ({len(rows)} arms)",
               xlabel="proportion of the arm")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def describe_outcome(prediction: Prediction, outcome: str) -> str:
    """One outcome's answer in words: the population rate with its credible interval and
    the count a trial of `patient_count` would see with its predictive interval (outer
    quantiles of the spec), plus P(count ≥ k) for each threshold."""
    found = [o for o in prediction.outcomes if o.outcome == outcome]
    if not found:
        raise ValueError(f"unknown outcome {outcome!r}")
    o, qs, n = found[0], prediction.quantiles, prediction.spec.patient_count
    mass = f"{(qs[-1] - qs[0]) * 100:g}%"
    text = (f"{LABELS[outcome]}: population rate {o.rate_mean:.0%} (posterior mean; {mass} "
            f"credible interval {o.rate_quantiles[0]:.0%}–{o.rate_quantiles[-1]:.0%}); in a "
            f"trial of {n} patients about {o.count_mean:.0f} ({mass} predictive interval "
            f"{o.count_quantiles[0]}–{o.count_quantiles[-1]})")
    chances = "; ".join(f"P(at least {k}) = {p:.2f}" for k, p in o.prob_count_at_least)
    return f"{text}; {chances}" if chances else text


def trace_plot(idata: az.InferenceData, path: Path | str, var_names: Sequence[str]) -> Path:
    """Per-chain draws and densities of `var_names` (ArviZ's trace plot), written as PNG."""
    axes = az.plot_trace(idata, var_names=list(var_names), compact=True,
                         figsize=(10, 2.2 * len(var_names) + 0.4))
    fig = np.asarray(axes).flat[0].figure
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def before_after_plot(before: Prediction, after: Prediction, path: Path | str, title: str,
                      labels: tuple[str, str] = ("before", "after"),
                      outcomes: Sequence[str] = ("orr", "cr", "crs_g3", "icans_g3", "gvhd_any"),
                      observed: Mapping[str, float] | None = None) -> Path:
    """Two predictions of the same spec (e.g. before and after a refit): posterior mean
    and outer-quantile interval of each outcome's rate, side by side; `observed` marks
    reference proportions (e.g. the new trial's own) with a cross."""
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(outcomes) + 1.4))
    y = np.arange(len(outcomes))[::-1].astype(float)
    for shift, prediction, label, colour in ((0.15, before, labels[0], "tab:grey"),
                                             (-0.15, after, labels[1], "tab:blue")):
        rows = [prediction.outcomes[OUTCOMES.index(o)] for o in outcomes]
        ax.hlines(y + shift, [r.rate_quantiles[0] for r in rows],
                  [r.rate_quantiles[-1] for r in rows], color=colour, lw=2)
        ax.plot([r.rate_mean for r in rows], y + shift, "o", color=colour, label=label)
    if observed:
        ax.plot(list(observed.values()), [y[list(outcomes).index(o)] for o in observed], "x",
                color="tab:red", ms=9, label="observed")
    qs = before.quantiles
    ax.set_yticks(y, [LABELS[o] for o in outcomes])
    ax.set(xlim=(0, 1), xlabel=f"population rate: mean and {qs[0]:g}–{qs[-1]:g} quantiles")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"{title}\n{textwrap.fill(RESEARCH_USE_NOTICE, 90)}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
