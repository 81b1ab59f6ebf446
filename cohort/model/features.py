"""Lymphodepletion (LD) features and what is known about them (DESIGN §4).

f_flu = log1p(Flu total / 90), f_cy = log1p(Cy total / 1000), f_benda = log1p(Benda total
/ 180) with totals in mg/m² (mg/m²/day × days), f_cd52 ∈ [0, 1]. A dose of 0 means "not
given" (f = 0); an empty cell means unknown and becomes a latent parameter whose prior
is centred on the usual regimen (Flu 30×3 + Cy 400×3, or Benda 90×2) — never zero.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
import pandas as pd

FEATURES = ("flu", "cy", "benda", "cd52")
AGENTS = ("flu", "cy", "benda")
SCALE_MG_M2 = {"flu": 90.0, "cy": 1000.0, "benda": 180.0}
# Usual daily dose [mg/m²/day] and days when an agent is given (DESIGN §2, labels).
USUAL_DOSE = {"flu": (30.0, 3.0), "cy": (400.0, 3.0), "benda": (90.0, 2.0)}
# Agents of the usual regimen: Flu/Cy unless bendamustine is stated instead.
REGIMEN_AGENTS = {"flucy": ("flu", "cy"), "benda": ("benda",), "none": ()}


def ld_feature(total_mg_m2: np.ndarray | float, agent: str) -> np.ndarray:
    """Dimensionless LD feature of a total dose in mg/m²."""
    return np.log1p(np.asarray(total_mg_m2, dtype=float) / SCALE_MG_M2[agent])


# Features of the usual regimen (Flu 30×3 + Cy 400×3, no Benda, no anti-CD52). Linear
# predictors use f − f_ref, so intercepts and cut-points belong to the regimen nearly
# every arm received. Why: with raw f (≈ 0.7 almost everywhere) β·f duplicated the
# intercepts — posterior correlations up to 0.6 between β and the cut-points, the slowest
# directions for NUTS on the bundled data.
LD_REFERENCE = np.array([ld_feature(USUAL_DOSE["flu"][0] * USUAL_DOSE["flu"][1], "flu"),
                         ld_feature(USUAL_DOSE["cy"][0] * USUAL_DOSE["cy"][1], "cy"), 0.0, 0.0])


class Impute(IntEnum):
    """Prior family of an unknown LD feature (scales live in Priors)."""

    USUAL = 0  # agent of the usual regimen: folded normal centred on f(usual total)
    NOT_USUAL = 1  # agent not in the usual regimen: folded normal centred on 0
    CD52_AUTOLOGOUS = 2  # anti-CD52 exposure fraction, autologous product
    CD52_OTHER = 3  # anti-CD52 exposure fraction, other or unknown cell source


class LDTable(NamedTuple):
    """LD features of some rows (arms, strata): (n, 4) arrays in FEATURES order."""

    value: np.ndarray  # f where known, 0 where unknown
    unknown: np.ndarray  # bool
    kind: np.ndarray  # Impute kind where unknown
    loc: np.ndarray  # prior centre on the f scale (USUAL kind)


def _agent(mg: np.ndarray, days: np.ndarray, agent: str, usual: np.ndarray) -> tuple:
    """(value, unknown, kind, loc) of one agent; `usual` marks rows whose regimen has it."""
    usual_mg, usual_days = USUAL_DOSE[agent]
    zero = (mg == 0) | (days == 0)
    known = (~np.isnan(mg) & ~np.isnan(days)) | zero
    stated = ~np.isnan(mg) | ~np.isnan(days)
    value = np.where(known & ~zero, ld_feature(np.nan_to_num(mg * days), agent), 0.0)
    centre = ld_feature(np.where(np.isnan(mg), usual_mg, mg)
                        * np.where(np.isnan(days), usual_days, days), agent)
    given = stated | usual
    kind = np.where(given, Impute.USUAL, Impute.NOT_USUAL)
    return value, ~known, kind, np.where(given, centre, 0.0)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def regimen_of(arms: pd.DataFrame) -> np.ndarray:
    """'benda' where bendamustine is stated > 0 and neither Flu nor Cy is, else 'flucy'."""
    def stated(agent: str) -> np.ndarray:
        return np.nan_to_num(_column(arms, f"{agent}_mg_m2_day")) > 0

    benda = stated("benda") & ~stated("flu") & ~stated("cy")
    return np.where(benda, "benda", "flucy")


def ld_table(arms: pd.DataFrame, regimen: np.ndarray, autologous: np.ndarray) -> LDTable:
    """LD features of rows with the contract's dose columns under a regimen per row."""
    parts = []
    for agent in AGENTS:
        usual = np.array([agent in REGIMEN_AGENTS[r] for r in regimen], dtype=bool)
        parts.append(_agent(_column(arms, f"{agent}_mg_m2_day"),
                            _column(arms, f"{agent}_days"), agent, usual))
    cd52 = _column(arms, "anti_cd52")
    cd52_kind = np.where(autologous, Impute.CD52_AUTOLOGOUS, Impute.CD52_OTHER)
    parts.append((np.nan_to_num(cd52), np.isnan(cd52), cd52_kind, np.zeros(len(arms))))
    value, unknown, kind, loc = (np.stack(col, axis=1) for col in zip(*parts, strict=True))
    return LDTable(value, unknown.astype(bool), kind.astype(np.int32), loc)


def stratum_regimen(label: str) -> str | None:
    """LD regimen named by an ld_regimen stratum label ('flucy', 'benda', 'none')."""
    text = label.lower()
    if "benda" in text:
        return "benda"
    if "no ld" in text or "no lymphodepletion" in text:
        return "none"
    if "flu" in text or "cy" in text:
        return "flucy"
    return None


def patient_ld(patients: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per-patient features (N, 4) and which are stated (they override the arm's)."""
    totals = [_column(patients, f"{agent}_mg_m2_total") for agent in AGENTS]
    raw = np.stack([*totals, _column(patients, "anti_cd52")], axis=1)
    known = ~np.isnan(raw)
    value = np.stack([*(ld_feature(np.nan_to_num(t), a) for t, a in zip(totals, AGENTS,
                                                                          strict=True)),
                      np.nan_to_num(raw[:, 3])], axis=1)
    return np.where(known, value, 0.0), known
