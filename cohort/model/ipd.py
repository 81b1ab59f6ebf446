"""Individual patient data (the `patients` table) as per-patient likelihood rows.

A patient gets one row per attribute combination its arm's product allows (like arms).
Every patient's expansion is marginalised by quadrature (an arm of one); a measured peak
or AUC0-28 enters in closed form (terms.patient_loglik). patient_kinetics is not
modelled yet.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from cohort.model.features import patient_ld

RESPONSE_CATEGORY = {"SD": 0, "PD": 0, "PR": 1, "CR": 2}  # NE / empty: missing
GRADE_CATEGORY = {0: 0, 1: 1, 2: 1, 3: 2, 4: 2}  # {0, 1–2, ≥3}


class PatientRows(NamedTuple):
    """One row per (patient, compatible combination)."""

    row: np.ndarray  # (Np,) arm row (same arm and combination)
    cell: np.ndarray  # product * n_combos + combo
    patient: np.ndarray  # (Np,) patient index
    arm: np.ndarray  # arm index (LD table row used where the patient states no LD)
    ld_value: np.ndarray  # (Np, 4) stated per-patient LD features
    ld_known: np.ndarray  # (Np, 4) bool
    ord_cat: np.ndarray  # (Np, 3) category of response, CRS, ICANS; -1 = missing
    bin_obs: np.ndarray  # (Np, 2) neutropenia g≥3, GvHD; -1 = missing
    gvhd_eligible: np.ndarray  # (Np,) bool
    kin_log: np.ndarray  # (Np, 2) log peak, log AUC0-28 (0 where missing)
    kin_unit: np.ndarray  # (Np, 2) int
    kin_mask: np.ndarray  # (Np, 2) bool


def _categories(values: pd.Series, mapping: dict) -> np.ndarray:
    def code(v: object) -> int:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return -1
        return mapping.get(int(v) if not isinstance(v, str) else v, -1)

    return np.array([code(v) for v in values], dtype=np.int32)


def _flags(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), -1, dtype=np.int32)
    return pd.to_numeric(frame[column], errors="coerce").fillna(-1).to_numpy().astype(np.int32)


def _patient_arrays(patients: pd.DataFrame, units: tuple[str, ...]) -> dict[str, np.ndarray]:
    ld_value, ld_known = patient_ld(patients)
    unit = patients.get("peak_unit", pd.Series([None] * len(patients)))
    unit_code = np.array([units.index(u) if u in units else -1 for u in unit], dtype=np.int32)
    raw = np.stack([pd.to_numeric(patients.get(c, pd.Series(np.nan, index=patients.index)),
                                  errors="coerce").to_numpy(dtype=float)
                    for c in ("peak", "auc28")], axis=1)
    mask = ~np.isnan(raw) & (raw > 0) & (unit_code >= 0)[:, None]
    ord_cat = np.stack([
        _categories(patients.get("best_response", pd.Series([None] * len(patients))),
                    RESPONSE_CATEGORY),
        *(_categories(patients.get(c, pd.Series([None] * len(patients))), GRADE_CATEGORY)
          for c in ("crs_grade", "icans_grade"))], axis=1)
    return {
        "ld_value": ld_value, "ld_known": ld_known, "ord_cat": ord_cat,
        "bin_obs": np.stack([_flags(patients, "neut_g3"), _flags(patients, "gvhd")], axis=1),
        "kin_log": np.where(mask, np.log(np.where(mask, raw, 1.0)), 0.0),
        "kin_unit": np.repeat(np.maximum(unit_code, 0)[:, None], 2, axis=1), "kin_mask": mask,
    }


def expand_rows(owner: np.ndarray, rows_of: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(item, row) for every row of each item's owner: the expansion over combinations."""
    per = [rows_of[o] for o in owner]
    item = np.repeat(np.arange(len(owner), dtype=np.int32), [len(r) for r in per])
    return item, (np.concatenate(per).astype(np.int32) if per else np.zeros(0, np.int32))


def patient_rows(patients: pd.DataFrame, arm_ids: tuple[str, ...], row_arm: np.ndarray,
                 row_cell: np.ndarray, row_gvhd: np.ndarray,
                 units: tuple[str, ...]) -> PatientRows:
    """Patient rows expanded over the combinations of their arm's product."""
    unknown = sorted(set(patients["arm_id"]) - set(arm_ids))
    if unknown:
        raise ValueError(f"patients reference arms not in the arms table: {unknown}")
    arrays = _patient_arrays(patients, units)
    position = {a: i for i, a in enumerate(arm_ids)}
    arm = np.array([position[a] for a in patients["arm_id"]], dtype=np.int32)
    patient, rows = expand_rows(arm, [np.flatnonzero(row_arm == a) for a in range(len(arm_ids))])
    return PatientRows(row=rows, cell=row_cell[rows], patient=patient, arm=arm[patient],
                       gvhd_eligible=row_gvhd[rows],
                       **{k: v[patient] for k, v in arrays.items()})
