"""A person-readable overview of a dataset: what evidence there is, and what is missing."""

from __future__ import annotations

import pandas as pd

from cohort.dataset import Dataset

# (label, numerator column, denominator column with fallback) for crude pooled rates.
ENDPOINTS = (
    ("ORR", "n_orr", "n_efficacy"),
    ("CR", "n_cr", "n_efficacy"),
    ("CRS any", "n_crs_any", "n_treated"),
    ("CRS g3+", "n_crs_g3", "n_treated"),
    ("ICANS any", "n_icans_any", "n_treated"),
    ("ICANS g3+", "n_icans_g3", "n_treated"),
    ("Neutropenia g3+", "n_neut_g3", "n_treated"),
    ("GvHD", "n_gvhd_any", "n_treated"),
)


def _denominator(arms: pd.DataFrame, column: str) -> pd.Series:
    if column == "n_efficacy":
        return arms["n_efficacy"].fillna(arms["n_treated"])
    return arms[column]


def endpoint_table(arms: pd.DataFrame) -> pd.DataFrame:
    """Per endpoint: arms reporting it, patients, events and the crude pooled rate.

    Crude pooling ignores between-trial variation; it is a data overview, not an estimate.
    """
    rows = []
    for label, numerator, denominator in ENDPOINTS:
        reported = arms[numerator].notna()
        events = int(arms.loc[reported, numerator].sum())
        patients = int(_denominator(arms, denominator)[reported].sum())
        rows.append({"endpoint": label, "arms": int(reported.sum()), "patients": patients,
                     "events": events, "crude_rate": events / patients if patients else None})
    return pd.DataFrame(rows)


def class_table(arms: pd.DataFrame) -> pd.DataFrame:
    """Arms and treated patients by product class and disease (unknown shown as '?')."""
    frame = arms.assign(
        cell_source=arms["cell_source"].fillna("?"), costim=arms["costim"].fillna("?"))
    grouped = frame.groupby(["cell_type", "cell_source", "disease"], dropna=False)
    return grouped.agg(arms=("arm_id", "size"), n_treated=("n_treated", "sum")).reset_index()


def missingness(arms: pd.DataFrame) -> dict[str, int]:
    """Arms with each model input unknown (empty); the model treats these as missing."""
    columns = ("costim", "cell_source", "flu_mg_m2_day", "cy_mg_m2_day", "anti_cd52",
               "peak_median")
    return {column: int(arms[column].isna().sum()) for column in columns}


def render(data: Dataset, title: str) -> str:
    arms = data.arms
    counts = ", ".join(f"{k} {v}" for k, v in data.row_counts().items())
    lines = [
        title,
        f"rows: {counts}; patients treated in arms: {int(arms['n_treated'].sum())}; "
        f"trials: {arms['trial'].nunique()}; products: {arms['product'].nunique()}",
        "",
        "Endpoints (crude pooled, ignores between-trial variation):",
        endpoint_table(arms).to_string(index=False, float_format=lambda x: f"{x:.3f}"),
        "",
        "Arms by class and disease:",
        class_table(arms).to_string(index=False),
        "",
        "Unknown (empty) model inputs, arms: "
        + ", ".join(f"{k} {v}" for k, v in missingness(arms).items()),
    ]
    return "\n".join(lines)
