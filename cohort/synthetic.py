"""Synthetic trial data from known parameters, in the data contract (DESIGN §3).

Patients are simulated one by one from the generative model of DESIGN §4 (expansion
E_i = m_j + ε_i, ordinal outcomes given E_i, kinetics log y = a + b·E + s·e); arms are then
*aggregated* from their patients (counts, medians, medians by response), so an arm says
exactly what its patients did. A fraction of arms is also returned as IPD. Used by the
tests, simulation-based calibration and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np
import pandas as pd

from cohort.model.data import COMBOS, LEVELS, OUTCOMES, UNITS, attribute_design
from cohort.model.features import FEATURES, LD_REFERENCE, ld_feature

K = len(OUTCOMES)
TARGETS = ("CD19", "BCMA")
DISEASES = {"CD19": ("LBCL", "B-ALL"), "BCMA": ("MM",)}
ARM_COLUMNS = (
    "arm_id", "trial", "product", "target", "costim", "cell_source", "cell_type", "disease",
    "setting", "flu_mg_m2_day", "flu_days", "cy_mg_m2_day", "cy_days", "benda_mg_m2_day",
    "benda_days", "anti_cd52", "n_treated", "n_efficacy", "n_orr", "n_cr", "n_crs_any",
    "n_crs_g3", "n_icans_any", "n_icans_g3", "n_neut_g3", "n_gvhd_any", "peak_median",
    "peak_unit", "auc28_median", "auc28_unit", "tmax_median_days", "source", "notes")
COUNT_COLUMNS = ARM_COLUMNS[18:26]


@dataclass(frozen=True)
class SyntheticConfig:
    """Design of a synthetic data set and the parameters it is drawn from."""

    n_arms: int = 30
    patients_per_arm: int = 60  # mean; each arm draws 0.5–1.5× this
    ipd_fraction: float = 0.2  # arms also given as patients (their rows supersede the arm's)
    kinetics_fraction: float = 0.6  # arms reporting median peak / AUC0-28
    strata_fraction: float = 0.3  # arms reporting median peak among (non-)responders
    missing_dose: float = 0.0  # probability a dose cell is empty
    missing_attribute: float = 0.0  # probability a product's costim / cell_source is empty
    missing_count: float = 0.0  # probability a count cell is empty
    # Known parameters (units as in cohort.model.priors).
    ld_effect_expansion: tuple[float, float, float, float] = (0.8, 0.6, 0.3, -0.3)
    gamma: tuple[float, float, float, float, float] = (1.0, 0.8, 0.6, 0.5, 0.7)
    allogeneic_expansion: float = -0.8
    cuts: tuple[tuple[float, float], ...] = ((0.5, 2.0), (0.3, 2.8), (1.0, 3.0))
    alpha: tuple[float, float] = (-0.5, -1.5)
    tau: float = 0.3  # sd of product, disease and trial effects, every dimension
    kin_b: float = 1.2
    kin_s: float = 0.5
    kin_s_arm: float = 0.1


def _truth(rng: np.random.Generator, config: SyntheticConfig, n_products: int,
           n_trials: int) -> dict:
    attr = rng.normal(0.0, 0.3, (len(attribute_design(COMBOS[0], "CD19", TARGETS)), K))
    attr[0, 0] = config.allogeneic_expansion
    ld = np.zeros((len(FEATURES), K))
    ld[:, 0] = config.ld_effect_expansion
    ld[:2, 4] = 0.5  # deeper Flu/Cy → more neutropenia
    kin_a = np.log([[50.0, 20_000.0], [500.0, 200_000.0]])
    return {
        "attr_effect": attr, "ld_effect": ld, "gamma": np.array(config.gamma),
        "cuts": np.array(config.cuts), "alpha": np.array(config.alpha),
        "product_effect": rng.normal(0.0, config.tau, (n_products, K)),
        "disease_effect": {d: rng.normal(0.0, config.tau, K)
                           for ds in DISEASES.values() for d in ds},
        "trial_effect": rng.normal(0.0, config.tau, (n_trials, K)),
        "kin_a": kin_a, "kin_b": np.full((2, 2), config.kin_b),
        "kin_s": np.full((2, 2), config.kin_s), "kin_s_arm": np.full(2, config.kin_s_arm),
    }


def _products(rng: np.random.Generator, n: int) -> pd.DataFrame:
    source = rng.choice(LEVELS["cell_source"], n, p=[0.6, 0.3, 0.1])
    nk = (source != "autologous") & (rng.random(n) < 0.3)
    return pd.DataFrame({
        "product": [f"P{i}" for i in range(n)],
        "target": rng.choice(TARGETS, n, p=[0.7, 0.3]),
        "costim": rng.choice(LEVELS["costim"], n, p=[0.45, 0.45, 0.1]),
        "cell_source": source, "cell_type": np.where(nk, "CAR-NK", "CAR-T")})


def _regimens(rng: np.random.Generator, n: int, allogeneic: np.ndarray) -> pd.DataFrame:
    flu = rng.choice([0.0, 15.0, 25.0, 30.0, 40.0], n)
    cy = rng.choice([0.0, 250.0, 300.0, 500.0, 750.0, 1000.0], n)
    benda = np.where((flu == 0) & (cy == 0) & (rng.random(n) < 0.7), 90.0, 0.0)
    return pd.DataFrame({
        "flu_mg_m2_day": flu, "flu_days": np.where(flu > 0, 3.0, 0.0), "cy_mg_m2_day": cy,
        "cy_days": np.where(cy > 0, 3.0, 0.0), "benda_mg_m2_day": benda,
        "benda_days": np.where(benda > 0, 2.0, 0.0),
        "anti_cd52": np.where(allogeneic & (rng.random(n) < 0.5), 1.0, 0.0)})


def _features(regimen: pd.DataFrame, scale: np.ndarray) -> np.ndarray:
    """(n, 4) LD features relative to the usual regimen (f − f_ref, as the model's linear
    predictors use them); `scale` multiplies each patient's chemotherapy totals."""
    cols = [ld_feature(regimen[f"{a}_mg_m2_day"] * regimen[f"{a}_days"] * scale, a)
            for a in ("flu", "cy", "benda")]
    return np.stack([*cols, regimen["anti_cd52"].to_numpy()], axis=1) - LD_REFERENCE


def _linear_predictor(truth: dict, arms: pd.DataFrame, codes: dict) -> np.ndarray:
    """μ_j (n_arms, K) without LD: attributes, product, disease, trial, intercepts."""
    design = np.array([attribute_design(combo, t, TARGETS) for combo, t in zip(
        arms[list(LEVELS)].itertuples(index=False, name=None), arms["target"], strict=True)])
    alpha = np.concatenate([np.zeros(K - 2), truth["alpha"]])
    disease = np.stack([truth["disease_effect"][d] for d in arms["disease"]])
    return (design @ truth["attr_effect"] + truth["product_effect"][codes["product"]]
            + disease + truth["trial_effect"][codes["trial"]] + alpha)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _patients(rng: np.random.Generator, truth: dict, mu: np.ndarray, features: np.ndarray,
              gvhd_ok: np.ndarray, unit: np.ndarray) -> dict[str, np.ndarray]:
    """Outcome categories and kinetics of individual patients (one row each)."""
    n = len(mu)
    m = mu[:, 0] + features @ truth["ld_effect"][:, 0]
    expansion = m + rng.normal(size=n)
    eta = mu[:, 1:] + features @ truth["ld_effect"][:, 1:] + truth["gamma"] * expansion[:, None]
    u = rng.random((n, 3))
    ordinal = ((u < _sigmoid(eta[:, :3] - truth["cuts"][:, 0])).astype(int)
               + (u < _sigmoid(eta[:, :3] - truth["cuts"][:, 1])))
    binary = rng.random((n, 2)) < _sigmoid(eta[:, 3:])
    binary[:, 1] &= gvhd_ok
    logs = [truth["kin_a"][k, unit] + truth["kin_b"][k, unit] * expansion
            + truth["kin_s"][k, unit] * rng.normal(size=n) for k in range(2)]
    return {"m": m, "expansion": expansion, "ordinal": ordinal, "binary": binary,
            "log_kinetics": np.stack(logs, axis=1)}


def _counts(arm_of: np.ndarray, sim: dict, evaluable: np.ndarray, n_arms: int) -> dict:
    """Arm counts aggregated from their patients (efficacy among the evaluable)."""
    def total(flag: np.ndarray) -> np.ndarray:
        return np.bincount(arm_of, weights=flag, minlength=n_arms).astype(float)

    ordinal, binary = sim["ordinal"], sim["binary"]
    values = [total(evaluable & (ordinal[:, 0] >= 1)), total(evaluable & (ordinal[:, 0] == 2))]
    for k in (1, 2):
        values += [total(ordinal[:, k] >= 1), total(ordinal[:, k] == 2)]
    values += [total(binary[:, 0]), total(binary[:, 1])]
    return dict(zip(COUNT_COLUMNS, values, strict=True))


def _median_by(arm_of: np.ndarray, values: np.ndarray, n_arms: int) -> np.ndarray:
    frame = pd.DataFrame({"arm": arm_of, "v": values})
    return frame.groupby("arm")["v"].median().reindex(range(n_arms)).to_numpy()


def _strata(rng: np.random.Generator, arms: pd.DataFrame, arm_of: np.ndarray, sim: dict,
            evaluable: np.ndarray, chosen: np.ndarray) -> pd.DataFrame:
    """Median peak / AUC0-28 among responders and non-responders of the chosen arms."""
    records = []
    for j in np.flatnonzero(chosen):
        for label, group, flag in (("Responders", "responder", True),
                                   ("Non-responders", "non-responder", False)):
            members = (arm_of == j) & evaluable & ((sim["ordinal"][:, 0] >= 1) == flag)
            if members.sum() < 3:
                continue
            med = np.exp(np.median(sim["log_kinetics"][members], axis=0))
            records.append({"arm_id": arms["arm_id"][j], "stratum_kind": "response",
                            "stratum": label, "response_group": group, "n": members.sum(),
                            "peak_median": med[0], "peak_unit": arms["peak_unit_all"][j],
                            "auc28_median": med[1], "auc28_unit": arms["peak_unit_all"][j],
                            "tmax_median_days": np.nan, "confidence": "high",
                            "source": "synthetic", "notes": ""})
    return pd.DataFrame.from_records(records, columns=[
        "arm_id", "stratum_kind", "stratum", "response_group", "n", "peak_median",
        "peak_unit", "auc28_median", "auc28_unit", "tmax_median_days", "confidence",
        "source", "notes"])


def _patient_table(rng: np.random.Generator, arms: pd.DataFrame, arm_of: np.ndarray,
                   sim: dict, totals: np.ndarray, members: np.ndarray) -> pd.DataFrame:
    """The patients table (contract columns) of the IPD arms."""
    idx = np.flatnonzero(members)
    ordinal, n = sim["ordinal"][idx], len(idx)
    measured = rng.random(n) < 0.8
    kinetics = np.where(measured[:, None], np.exp(sim["log_kinetics"][idx]), np.nan)
    response = np.where(ordinal[:, 0] == 2, "CR", np.where(ordinal[:, 0] == 1, "PR",
                                                           rng.choice(["SD", "PD"], n)))
    # category {0, 1–2, ≥3} → grade 0, 1 or 2, 3 or 4
    grade = [np.where(ordinal[:, k] == 0, 0, 2 * ordinal[:, k] - 1 + rng.integers(0, 2, n))
             for k in (1, 2)]
    return pd.DataFrame({
        "patient_id": [f"{arms['arm_id'][arm_of[i]]}-{i}" for i in idx],
        "arm_id": arms["arm_id"].to_numpy()[arm_of[idx]],
        "age_years": np.round(rng.normal(60.0, 10.0, n)), "ldh_high": rng.integers(0, 2, n),
        "flu_mg_m2_total": totals[idx, 0], "cy_mg_m2_total": totals[idx, 1],
        "benda_mg_m2_total": totals[idx, 2], "anti_cd52": totals[idx, 3],
        "peak": kinetics[:, 0], "peak_unit": np.where(measured, arms["peak_unit_all"].to_numpy()
                                                      [arm_of[idx]], None),
        "auc28": kinetics[:, 1], "tmax_days": np.nan, "best_response": response,
        "crs_grade": grade[0], "icans_grade": grade[1],
        "neut_g3": sim["binary"][idx, 0].astype(int), "gvhd": sim["binary"][idx, 1].astype(int)})


def _blank(rng: np.random.Generator, frame: pd.DataFrame, columns: list[str], p: float,
           together: bool = False) -> None:
    """Empty cells at random (in place); `together` empties all columns of a row at once."""
    hit = rng.random(len(frame)) < p
    for column in columns:
        frame.loc[hit if together else rng.random(len(frame)) < p, column] = np.nan


def _missingness(rng: np.random.Generator, arms: pd.DataFrame, config: SyntheticConfig) -> None:
    for agent in ("flu", "cy", "benda"):
        _blank(rng, arms, [f"{agent}_mg_m2_day", f"{agent}_days"], config.missing_dose, True)
    _blank(rng, arms, ["anti_cd52"], config.missing_dose)
    for attribute in ("costim", "cell_source"):
        hidden = arms["product"].isin(arms["product"].unique()[
            rng.random(arms["product"].nunique()) < config.missing_attribute])
        arms.loc[hidden, attribute] = None
    _blank(rng, arms, list(COUNT_COLUMNS), config.missing_count)



def _kinetic_medians(rng: np.random.Generator, arms: pd.DataFrame, arm_of: np.ndarray,
                     sim: dict, report: np.ndarray, s_arm: np.ndarray) -> None:
    """Arm medians of peak and AUC0-28 (with reporting error s_arm), in place."""
    for k, measure in enumerate(("peak", "auc28")):
        log_median = _median_by(arm_of, sim["log_kinetics"][:, k], len(arms))
        value = np.exp(log_median + s_arm[k] * rng.normal(size=len(arms)))
        arms[f"{measure}_median"] = np.where(report, value, np.nan)
        arms[f"{measure}_unit"] = np.where(report, arms["peak_unit_all"], None)


def simulate(rng_key: jax.Array, config: SyntheticConfig = SyntheticConfig()
             ) -> tuple[dict[str, pd.DataFrame], dict]:
    """(tables {arms, kinetic_strata, patients}, truth) from the known parameters."""
    rng = np.random.default_rng(int(jax.random.randint(rng_key, (), 0, 2**31 - 1)))
    n_arms, n_products = config.n_arms, max(2, config.n_arms // 2)
    product, trial = np.arange(n_arms) % n_products, np.arange(n_arms) // 2
    arms = _products(rng, n_products).iloc[product].reset_index(drop=True)
    arms["disease"] = [rng.choice(DISEASES[t]) for t in arms["target"]]
    regimen = _regimens(rng, n_arms, (arms["cell_source"] != "autologous").to_numpy())
    truth = _truth(rng, config, n_products, int(trial.max()) + 1)
    mu = _linear_predictor(truth, arms, {"product": product, "trial": trial})
    n_treated = rng.integers(config.patients_per_arm // 2, 3 * config.patients_per_arm // 2 + 1,
                             n_arms)
    arm_of = np.repeat(np.arange(n_arms), n_treated)
    ipd = rng.random(n_arms) < config.ipd_fraction
    scale = np.where(ipd[arm_of], rng.choice([1.0, 1.0, 1.0, 0.67], len(arm_of)), 1.0)
    features = _features(regimen.iloc[arm_of].reset_index(drop=True), scale)
    gvhd_ok = ((arms["cell_type"] == "CAR-T") & (arms["cell_source"] != "autologous")).to_numpy()
    unit = rng.integers(0, len(UNITS), n_arms)
    sim = _patients(rng, truth, mu[arm_of], features, gvhd_ok[arm_of], unit[arm_of])
    n_eff = np.where(rng.random(n_arms) < 0.2, n_treated - rng.integers(1, 4, n_arms), n_treated)
    evaluable = np.arange(len(arm_of)) - np.repeat(np.cumsum(n_treated) - n_treated,
                                                   n_treated) < n_eff[arm_of]
    arms = pd.concat([arms, regimen], axis=1).assign(
        arm_id=[f"A{j}" for j in range(n_arms)], trial=[f"T{t}" for t in trial],
        product=[f"P{p}" for p in product], setting="synthetic", n_treated=n_treated,
        n_efficacy=np.where(n_eff < n_treated, n_eff, np.nan), tmax_median_days=np.nan,
        source="cohort.synthetic", notes="", peak_unit_all=np.array(UNITS)[unit],
        **_counts(arm_of, sim, evaluable, n_arms))
    arms.loc[~gvhd_ok & (arms["cell_type"] == "CAR-T"), "n_gvhd_any"] = np.nan
    report = rng.random(n_arms) < config.kinetics_fraction
    _kinetic_medians(rng, arms, arm_of, sim, report, truth["kin_s_arm"])
    strata = _strata(rng, arms, arm_of, sim, evaluable,
                     report & ~ipd & (rng.random(n_arms) < config.strata_fraction))
    totals = np.column_stack([regimen[f"{a}_mg_m2_day"].to_numpy()[arm_of]
                              * regimen[f"{a}_days"].to_numpy()[arm_of] * scale
                              for a in ("flu", "cy", "benda")]
                             + [regimen["anti_cd52"].to_numpy()[arm_of]])
    patients = _patient_table(rng, arms, arm_of, sim, totals, ipd[arm_of])
    _missingness(rng, arms, config)
    truth.update(arm_mean_expansion=mu[:, 0] + _features(regimen, np.ones(n_arms))
                 @ truth["ld_effect"][:, 0], products=tuple(arms["product"].unique()),
                 trials=tuple(arms["trial"].unique()), ipd_arms=tuple(arms["arm_id"][ipd]),
                 patient_expansion=sim["expansion"])
    return {"arms": arms[list(ARM_COLUMNS)], "kinetic_strata": strata,
            "patients": patients}, truth


def write_csv(tables: dict[str, pd.DataFrame], directory: str | Path) -> dict[str, Path]:
    """Write each table as <name>.csv (empty cell = unknown); returns the paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.csv" for name in tables}
    for name, frame in tables.items():
        frame.to_csv(paths[name], index=False)
    return paths
