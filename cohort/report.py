"""Posterior summaries a person reads: the main effects table and its forest plot."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")  # files only: no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

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
