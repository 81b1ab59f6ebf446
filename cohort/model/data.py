"""From contract tables (DESIGN §3) to the arrays the model reads: `build_model_data`.

Unknown product attributes (cell_source, cell_type, costim) are marginalised exactly: each
arm, stratum and patient gets one *row* per attribute combination compatible with what
its product states, and the model mixes rows by product with log-sum-exp. Everything
is indexed here, once, in numpy, so the model is a few vectorised operations.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import gammaln

from cohort.model.features import LDTable, ld_table, regimen_of, stratum_regimen
from cohort.model.ipd import PatientRows, expand_rows, patient_rows
from cohort.model.likelihood import gauss_hermite

OUTCOMES = ("E", "R", "C", "I", "N", "G")
LEVELS = {
    "cell_source": ("autologous", "allogeneic", "iPSC"),
    "cell_type": ("CAR-T", "CAR-NK"),
    "costim": ("4-1BB", "CD28", "other"),
}
COMBOS = tuple(itertools.product(*LEVELS.values()))
REFERENCE_TARGET = "CD19"
UNITS = ("cells/uL", "copies/ug")
MEASURES = ("peak", "auc28")
# (any-or-lower count, top count) of the ordinal outcomes R, C, I in the arms table.
ORDINAL_COUNTS = (("n_orr", "n_cr"), ("n_crs_any", "n_crs_g3"), ("n_icans_any", "n_icans_g3"))
BINARY_COUNTS = ("n_neut_g3", "n_gvhd_any")
RESPONSE_GROUPS = ("responder", "non-responder")
# GvHD needs donor T cells: allogeneic or iPSC CAR-T; structurally zero otherwise.
GVHD_ELIGIBLE = np.array([cell_type == "CAR-T" and source != "autologous"
                          for source, cell_type, _ in COMBOS])


class DataIndex(NamedTuple):
    """Names behind every integer index (predictions map names → integers with it)."""

    arms: tuple[str, ...]
    products: tuple[str, ...]
    diseases: tuple[str, ...]
    trials: tuple[str, ...]
    targets: tuple[str, ...]
    attr_columns: tuple[str, ...]
    patients: tuple[str, ...]
    product_targets: tuple[str, ...] = ()  # target of each product, e.g. "CD19/CD22"
    n_ld_unknown: int = 0  # unknown LD features: the size of the imputation plate, kept
    # here (static) because fits pass the arrays as traced arguments
    outcomes: tuple[str, ...] = OUTCOMES
    units: tuple[str, ...] = UNITS
    combos: tuple[tuple[str, ...], ...] = COMBOS


class ArmRows(NamedTuple):
    """One row per (arm, compatible attribute combination); counts are per row."""

    arm: np.ndarray  # (R,) arm index = its row in the LD table
    product: np.ndarray
    disease: np.ndarray
    trial: np.ndarray
    cell: np.ndarray  # product * n_combos + combo
    attr: np.ndarray  # (R, D) attribute design (non-reference levels, target shares)
    gvhd_eligible: np.ndarray  # (R,) bool: allogeneic/iPSC CAR-T
    ord_coef: np.ndarray  # (R, 3, 5) counts on [1-P1, P1-P2, P2, P1, 1-P2] of R, C, I
    ord_const: np.ndarray  # (R, 3) log multinomial coefficients
    bin_coef: np.ndarray  # (R, 2, 2) counts on [1-P, P] of N, G
    bin_const: np.ndarray  # (R, 2)
    kin_log: np.ndarray  # (R, 2) log median peak / AUC0-28 (0 where missing)
    kin_unit: np.ndarray  # (R, 2) int
    kin_mask: np.ndarray  # (R, 2) bool
    kin_n: np.ndarray  # (R,) n_treated: patients behind the medians, toxicity denominator
    n_efficacy: np.ndarray  # (R,) ORR/CR denominator


class StratumRows(NamedTuple):
    """One row per (kinetic stratum, compatible combination of its arm)."""

    row: np.ndarray  # (S,) arm row
    cell: np.ndarray
    group: np.ndarray  # 0 responders, 1 non-responders, 2 LD regimen
    ld: np.ndarray  # LD table row (the arm's, or the stratum's own regimen)
    kin_log: np.ndarray  # (S, 2)
    kin_unit: np.ndarray
    kin_mask: np.ndarray
    n: np.ndarray  # (S,) NaN = not stated


class ModelData(NamedTuple):
    index: DataIndex
    rows: ArmRows
    strata: StratumRows
    patients: PatientRows
    ld: LDTable  # arms first, then LD strata
    compatible: np.ndarray  # (P, C) bool: combinations a product's stated attributes allow
    combo_levels: np.ndarray  # (C, 3) level index per attribute
    nodes: np.ndarray  # (Q,) standard-normal quadrature nodes
    log_weights: np.ndarray  # (Q,)


def _codes(values: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    return np.array([names.index(v) for v in values], dtype=np.int32)


def _num(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _product_attributes(arms: pd.DataFrame, products: tuple[str, ...]) -> pd.DataFrame:
    """One stated level (or None) per product and mixable attribute; conflicts raise."""
    out = {}
    for attr in (*LEVELS, "target"):
        stated = arms.dropna(subset=[attr]).groupby("product")[attr].unique()
        conflicts = [p for p, v in stated.items() if len(v) > 1]
        if conflicts:
            raise ValueError(f"products with conflicting {attr}: {conflicts}")
        out[attr] = [stated[p][0] if p in stated else None for p in products]
    return pd.DataFrame(out, index=list(products))


def _compatibility(attrs: pd.DataFrame) -> np.ndarray:
    if attrs["target"].isna().any():
        raise ValueError("every product needs a target")
    return np.array([[all(pd.isna(a) or a == c for a, c in zip(row, combo, strict=True))
                      for combo in COMBOS] for row in attrs[list(LEVELS)].itertuples(False)])


def attribute_design(combo: tuple[str, ...], target: str, targets: tuple[str, ...]) -> np.ndarray:
    levels = [float(combo[i] == level) for i, (_, names) in enumerate(LEVELS.items())
              for level in names[1:]]
    parts = target.split("/")
    shares = [parts.count(t) / len(parts) for t in targets if t != REFERENCE_TARGET]
    return np.array(levels + shares)


def ordinal_coefficients(n: np.ndarray, low: np.ndarray, top: np.ndarray) -> tuple:
    """Counts on [1-P1, P1-P2, P2, P1, 1-P2]: multinomial if both reported, else binomial."""
    both, only_low, only_top = (~np.isnan(low) & ~np.isnan(top), ~np.isnan(low) & np.isnan(top),
                                np.isnan(low) & ~np.isnan(top))
    lo, hi = np.nan_to_num(low), np.nan_to_num(top)
    coef = np.stack([np.where(both | only_low, n - lo, 0), np.where(both, lo - hi, 0),
                     np.where(both | only_top, hi, 0), np.where(only_low, lo, 0),
                     np.where(only_top, n - hi, 0)], axis=-1)
    return coef, _log_coefficient(n, coef, both | only_low | only_top)


def _log_coefficient(n: np.ndarray, coef: np.ndarray, observed: np.ndarray) -> np.ndarray:
    if (coef < 0).any():
        raise ValueError("a count exceeds its denominator (or CR > ORR, g3 > any)")
    return np.where(observed, gammaln(n + 1) - gammaln(coef + 1).sum(-1), 0.0)


def _arm_counts(arms: pd.DataFrame, superseded: np.ndarray) -> tuple:
    """Per-arm count coefficients; arms with IPD contribute through their patients only."""
    n_treated = _num(arms, "n_treated")
    n_eff = np.where(np.isnan(_num(arms, "n_efficacy")), n_treated, _num(arms, "n_efficacy"))
    drop = np.where(superseded, np.nan, 0.0)
    ords = [ordinal_coefficients(n_eff if i == 0 else n_treated, _num(arms, lo) + drop,
                                 _num(arms, hi) + drop)
            for i, (lo, hi) in enumerate(ORDINAL_COUNTS)]
    bins = []
    for column in BINARY_COUNTS:
        k = _num(arms, column) + drop
        coef = np.stack([n_treated - np.nan_to_num(k), np.nan_to_num(k)], axis=-1)
        bins.append((coef * ~np.isnan(k)[:, None],
                     _log_coefficient(n_treated, coef, ~np.isnan(k))))
    stack = lambda parts, i: np.stack([p[i] for p in parts], axis=1)  # noqa: E731
    return stack(ords, 0), stack(ords, 1), stack(bins, 0), stack(bins, 1), n_treated, n_eff


def _kinetics(frame: pd.DataFrame, keep: np.ndarray) -> tuple:
    logs, units, masks = [], [], []
    for measure in MEASURES:
        value = _num(frame, f"{measure}_median")
        unit = frame.get(f"{measure}_unit", pd.Series([None] * len(frame)))
        ok = keep & ~np.isnan(value) & unit.isin(UNITS).to_numpy()
        logs.append(np.where(ok, np.log(np.where(ok, value, 1.0)), 0.0))
        units.append(np.array([UNITS.index(u) if u in UNITS else 0 for u in unit]))
        masks.append(ok)
    return np.stack(logs, 1), np.stack(units, 1).astype(np.int32), np.stack(masks, 1)


def covered_by_strata(arms: pd.DataFrame, strata: pd.DataFrame) -> np.ndarray:
    """(n_arms, 2) bool: the arm has a responder and a non-responder median of the measure.

    Why: those two medians describe the same patients as the arm's overall median, which
    then adds almost nothing of its own; counting all three as independent would use the
    arm's kinetics about twice and make the posterior overconfident."""
    response = strata[strata["stratum_kind"] == "response"]
    if "response_group" not in response:  # e.g. no strata table at all
        response = response.assign(response_group=None)
    grouped = response["response_group"].isin(RESPONSE_GROUPS).to_numpy()
    stated = _kinetics(response, grouped)[2]  # (n, measure): usable median
    covered = []
    for k in range(len(MEASURES)):
        groups = response[stated[:, k]].groupby("arm_id")["response_group"].nunique()
        covered.append(arms["arm_id"].isin(groups.index[groups == len(RESPONSE_GROUPS)])
                       .to_numpy())
    return np.stack(covered, axis=1)


def _arm_rows(arms: pd.DataFrame, index: DataIndex, attrs: pd.DataFrame,
              compatible: np.ndarray, superseded: np.ndarray, covered: np.ndarray) -> ArmRows:
    product = _codes(arms["product"], index.products)
    arm, combo = expand_rows(product, [np.flatnonzero(c) for c in compatible])
    ord_coef, ord_const, bin_coef, bin_const, n_treated, n_eff = _arm_counts(arms, superseded)
    kin_log, kin_unit, kin_mask = _kinetics(arms, ~superseded)
    kin_mask &= ~covered
    targets = attrs["target"].to_numpy()
    attr = np.array([attribute_design(COMBOS[c], targets[product[a]], index.targets)
                     for a, c in zip(arm, combo, strict=True)]).reshape(len(arm), -1)
    gvhd = GVHD_ELIGIBLE[combo]
    return ArmRows(
        arm=arm, product=product[arm], cell=product[arm] * len(COMBOS) + combo,
        disease=_codes(arms["disease"], index.diseases)[arm],
        trial=_codes(arms["trial"], index.trials)[arm], attr=attr, gvhd_eligible=gvhd,
        ord_coef=ord_coef[arm], ord_const=ord_const[arm],
        bin_coef=bin_coef[arm], bin_const=bin_const[arm], kin_log=kin_log[arm],
        kin_unit=kin_unit[arm],
        kin_mask=kin_mask[arm], kin_n=n_treated[arm], n_efficacy=n_eff[arm])


def _stratum_frame(arms: pd.DataFrame, strata: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """Kept strata (response with a group, LD with a regimen) and each one's regimen."""
    group = strata.get("response_group", pd.Series([None] * len(strata), index=strata.index))
    regimen = [stratum_regimen(str(s)) if k == "ld_regimen" else None
               for k, s in zip(strata["stratum_kind"], strata["stratum"], strict=True)]
    keep = strata["arm_id"].isin(arms["arm_id"]).to_numpy() & np.array(
        [(k == "response" and g in RESPONSE_GROUPS) or r is not None
         for k, g, r in zip(strata["stratum_kind"], group, regimen, strict=True)], dtype=bool)
    kept = strata[keep].assign(response_group=group[keep])
    return kept.reset_index(drop=True), [r for r, k in zip(regimen, keep, strict=True) if k]


def _ld_strata_table(arms: pd.DataFrame, kept: pd.DataFrame, regimens: list,
                     autologous: np.ndarray) -> LDTable:
    """LD rows of the LD strata: the arm's doses under the stratum's regimen."""
    ld_rows = [i for i, r in enumerate(regimens) if r is not None]
    position = {a: i for i, a in enumerate(arms["arm_id"])}
    source = [position[kept["arm_id"][i]] for i in ld_rows]
    frame = arms.iloc[source].reset_index(drop=True)
    drop = {"flucy": ("benda",), "benda": ("flu", "cy"), "none": ("flu", "cy", "benda")}
    for row, i in enumerate(ld_rows):
        for agent in drop[regimens[i]]:
            frame.loc[row, f"{agent}_mg_m2_day"] = 0.0
    chosen = np.array([regimens[i] for i in ld_rows], dtype=object)
    return ld_table(frame, chosen, autologous[source])


def _strata_rows(arms: pd.DataFrame, strata: pd.DataFrame, rows: ArmRows,
                 autologous: np.ndarray) -> tuple[StratumRows, LDTable]:
    kept, regimens = _stratum_frame(arms, strata)
    ld = _ld_strata_table(arms, kept, regimens, autologous)
    position = {a: i for i, a in enumerate(arms["arm_id"])}
    owner = np.array([position[a] for a in kept["arm_id"]], dtype=np.int32)
    s, r = expand_rows(owner, [np.flatnonzero(rows.arm == a) for a in range(len(arms))])
    is_ld = np.array([reg is not None for reg in regimens], dtype=bool)
    group = np.where(is_ld, 2, [RESPONSE_GROUPS.index(g) if g in RESPONSE_GROUPS else 0
                                for g in kept["response_group"]]).astype(np.int32)
    ld_row = (np.cumsum(is_ld) - 1 + len(arms)).astype(np.int32)
    kin_log, kin_unit, kin_mask = _kinetics(kept, np.ones(len(kept), dtype=bool))
    return StratumRows(row=r, cell=rows.cell[r], group=group[s],
                       ld=np.where(is_ld[s], ld_row[s], owner[s]).astype(np.int32),
                       kin_log=kin_log[s], kin_unit=kin_unit[s], kin_mask=kin_mask[s],
                       n=_num(kept, "n")[s]), ld


def _names(values: pd.Series) -> tuple[str, ...]:
    return tuple(str(v) for v in pd.unique(values))


def _index(arms: pd.DataFrame, patients: pd.DataFrame) -> DataIndex:
    components = {t for target in arms["target"].dropna() for t in str(target).split("/")}
    targets = (REFERENCE_TARGET, *sorted(components - {REFERENCE_TARGET}))
    attr_columns = tuple(f"{attr}[{level}]" for attr, names in LEVELS.items()
                         for level in names[1:]) + tuple(f"target[{t}]" for t in targets[1:])
    return DataIndex(arms=_names(arms["arm_id"]), products=_names(arms["product"]),
                     diseases=_names(arms["disease"]), trials=_names(arms["trial"]),
                     targets=targets, attr_columns=attr_columns,
                     patients=tuple(str(p) for p in patients.get("patient_id", [])))


def build_model_data(arms: pd.DataFrame, kinetic_strata: pd.DataFrame | None = None,
                     patients: pd.DataFrame | None = None, n_nodes: int = 20) -> ModelData:
    """Model arrays from contract tables (empty cells as NaN/None = unknown).

    Arms with rows in `patients` contribute through their patients only (their aggregate
    counts and medians describe the same people). `n_nodes` Gauss–Hermite nodes integrate
    over the latent expansion.
    """
    arms = arms.reset_index(drop=True)
    arms = arms.astype({c: object for c in (*LEVELS, "target") if c in arms})
    arms = arms.where(arms.notna(), None)
    patients = pd.DataFrame({"arm_id": []}) if patients is None else patients.reset_index(
        drop=True)
    strata = pd.DataFrame({"arm_id": [], "stratum_kind": [], "stratum": []}) \
        if kinetic_strata is None else kinetic_strata.reset_index(drop=True)
    index = _index(arms, patients)
    attrs = _product_attributes(arms, index.products)
    index = index._replace(product_targets=tuple(str(t) for t in attrs["target"]))
    compatible = _compatibility(attrs)
    superseded = arms["arm_id"].isin(set(patients["arm_id"])).to_numpy()
    rows = _arm_rows(arms, index, attrs, compatible, superseded,
                     covered_by_strata(arms, strata))
    autologous = (attrs["cell_source"] == "autologous").to_numpy()[
        _codes(arms["product"], index.products)]
    stratum_rows, ld_strata = _strata_rows(arms, strata, rows, autologous)
    ld_arms = ld_table(arms, regimen_of(arms), autologous)
    ld = LDTable(*(np.concatenate([x, y]) for x, y in zip(ld_arms, ld_strata, strict=True)))
    ipd = patient_rows(patients, index.arms, rows.arm, rows.cell,
                                  rows.gvhd_eligible, UNITS)
    nodes, log_weights = gauss_hermite(n_nodes)
    levels = np.array([[names.index(v) for v, names in zip(c, LEVELS.values(), strict=True)]
                       for c in COMBOS], dtype=np.int32)
    return ModelData(index=index._replace(n_ld_unknown=int(ld.unknown.sum())), rows=rows,
                     strata=stratum_rows, patients=ipd, ld=ld, compatible=compatible,
                     combo_levels=levels, nodes=nodes,
                     log_weights=log_weights)
