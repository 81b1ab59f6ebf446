"""The data contract: every rule type is caught exactly where it is broken, and nowhere else."""

from __future__ import annotations

from importlib import resources

import pandas as pd
import pytest

from cohort.bundled import bundled_dataset
from cohort.contract import TABLES
from cohort.dataset import Dataset
from cohort.errors import InvalidArgument
from cohort.readers import read_frame, read_tables
from cohort.validation import validate


def bundled_raw(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files("cohort") / "data" / f"{name}.csv") as path:
        return read_frame(path)


def arm_row(arms: pd.DataFrame, arm_id: str) -> int:
    """0-based frame index of an arm."""
    return int(arms.index[arms["arm_id"] == arm_id][0])


# (arm_id, column, new value, rule fragment). Each breaks exactly one rule in one cell.
ARM_INJECTIONS = [
    ("ZUMA1_P2_axicel_LBCL", "trial", "", "required"),
    ("JULIET_tisacel_DLBCL", "disease", "DLBCL", "must be one of"),
    ("ELARA_tisacel_FL", "n_cr", "12.5", "integer"),
    ("TRANSCEND_NHL001_lisocel_LBCL", "flu_mg_m2_day", "thirty", "finite number"),
    ("ZUMA2_brexucel_MCL", "cy_mg_m2_day", "-5", ">= 0"),
    ("ELIANA_tisacel_pedALL", "flu_days", "2.5", "integer"),
    ("KarMMa_idecel_MM", "anti_cd52", "2", "must be one of"),
    ("ZUMA12_axicel", "n_cr", "37", "n_orr"),                      # 37 > ORR 36, <= n_treated 40
    ("JULIET_tisacel_DLBCL", "n_orr", "94", "n_efficacy"),          # 94 > n_efficacy 93
    ("CIBMTR_ALL_tisacel", "n_crs_g3", "233", "n_crs_any"),         # 233 > any 232, <= 400
    ("Porter2015_CTL019_CLL", "n_neut_g3", "15", "n_treated"),      # 15 > 14 treated
    ("FT596_all", "flu_days", "0", "flu_mg_m2_day"),                # dose 30 with 0 days
    ("TRANSCEND_NHL001_lisocel_LBCL", "peak_unit", "", "required when peak_median"),
    ("SCRI_CAR19x22v2", "peak_unit", "ng/mL", "must be one of"),
    ("ZUMA3_P1_brexucel_adultALL", "n_gvhd_any", "1", "autologous"),
    ("CD38_AML_NCT04351022", "n_treated", "0", ">= 1"),
    ("CD20_BNHL_CLL", "peak_median", "0", "> 0"),
]


def test_bundled_dataset_validates_cleanly() -> None:
    data = bundled_dataset()
    assert data.row_counts() == {"arms": 39, "kinetic_strata": 10, "patients": 0,
                                 "patient_kinetics": 0}
    assert data.arms["arm_id"].is_unique
    # Empty means unknown: 18 arms have no costim and stay None, never a level or zero.
    assert data.arms["costim"].isna().sum() == 18
    assert data.arms["flu_mg_m2_day"].isna().sum() == 39 - 12


def test_every_injected_arm_cell_is_reported_and_nothing_else() -> None:
    arms = bundled_raw("arms")
    for arm_id, column, value, _ in ARM_INJECTIONS:
        arms.loc[arm_row(arms, arm_id), column] = value
    with pytest.raises(InvalidArgument) as caught:
        validate({"arms": arms})
    reported = {(v.table, v.row, v.field): v for v in caught.value.violations}
    expected = {("arms", arm_row(arms, a) + 1, c) for a, c, _, _ in ARM_INJECTIONS}
    assert set(reported) == expected
    for arm_id, column, value, fragment in ARM_INJECTIONS:
        violation = reported[("arms", arm_row(arms, arm_id) + 1, column)]
        assert fragment in violation.rule, violation
        assert violation.value == value or column == "peak_unit"


def test_duplicate_arm_id_within_a_table_and_against_the_base() -> None:
    arms = bundled_raw("arms")
    with pytest.raises(InvalidArgument) as caught:
        validate({"arms": pd.concat([arms, arms.iloc[[3]]], ignore_index=True)})
    [violation] = caught.value.violations
    assert (violation.row, violation.field) == (40, "arm_id")
    assert "repeated" in violation.rule
    with pytest.raises(InvalidArgument) as caught:
        validate({"arms": arms.iloc[[0]]}, base=bundled_dataset())
    assert "already in the snapshot" in caught.value.violations[0].rule


def _patients(n: int, arm_id: str = "ZUMA1_P2_axicel_LBCL") -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": [f"P{i:04d}" for i in range(n)], "arm_id": [arm_id] * n,
        "age_years": ["54"] * n, "flu_mg_m2_total": ["90"] * n, "peak": ["40.5"] * n,
        "peak_unit": ["cells/uL"] * n, "best_response": ["CR"] * n, "crs_grade": ["1"] * n,
        "icans_grade": ["0"] * n, "neut_g3": ["1"] * n, "gvhd": ["0"] * n,
    })


def test_other_tables_report_each_bad_cell() -> None:
    patients = _patients(6)
    patients.loc[0, "crs_grade"] = "5"
    patients.loc[1, "best_response"] = "MR"
    patients.loc[2, "arm_id"] = "NO_SUCH_ARM"
    patients.loc[3, "auc28"] = "120"           # auc28 is in peak_unit; remove the unit
    patients.loc[3, "peak"] = ""
    patients.loc[3, "peak_unit"] = ""
    patients.loc[4, "age_years"] = "130"
    kinetics = pd.DataFrame({"patient_id": ["P0000", "P0001", "GHOST"],
                             "day": ["-1", "7", "7"], "value": ["10", "5", "5"],
                             "unit": ["cells/uL", "mg", "cells/uL"]})
    strata = bundled_raw("kinetic_strata").iloc[:2].copy()
    strata.loc[0, "arm_id"] = "NO_SUCH_ARM"
    strata.loc[1, "stratum_kind"] = "age"
    with pytest.raises(InvalidArgument) as caught:
        validate({"patients": patients, "patient_kinetics": kinetics, "kinetic_strata": strata},
                 base=bundled_dataset())
    reported = {(v.table, v.row, v.field) for v in caught.value.violations}
    assert reported == {
        ("patients", 1, "crs_grade"), ("patients", 2, "best_response"),
        ("patients", 3, "arm_id"), ("patients", 4, "peak_unit"), ("patients", 5, "age_years"),
        ("patient_kinetics", 1, "day"), ("patient_kinetics", 2, "unit"),
        ("patient_kinetics", 3, "patient_id"),
        ("kinetic_strata", 1, "arm_id"), ("kinetic_strata", 2, "stratum_kind"),
    }


def test_unknown_and_missing_columns_and_tables_are_reported() -> None:
    frame = _patients(2).drop(columns=["arm_id"]).assign(crs_grade3="1")
    with pytest.raises(InvalidArgument) as caught:
        validate({"patients": frame, "adverse_events": frame})
    fields = {(v.table, v.field, v.value) for v in caught.value.violations}
    assert ("patients", "crs_grade3", "") in fields
    assert ("patients", "arm_id", "") in fields
    assert (None, "table", "adverse_events") in fields


def test_empty_is_unknown_not_zero_and_typed() -> None:
    data = validate({"patients": _patients(3).assign(neut_g3=["", "0", "1"])},
                    base=bundled_dataset())
    assert data.patients["neut_g3"].isna().tolist() == [True, False, False]
    assert str(data.patients["crs_grade"].dtype) == "Int64"
    assert str(data.patients["peak"].dtype) == "Float64"


def test_csv_and_parquet_give_the_same_dataset(tmp_path) -> None:
    typed = validate({"patients": _patients(5)}, base=bundled_dataset())
    typed.patients.to_parquet(tmp_path / "trial_patients.parquet")
    _patients(5).to_csv(tmp_path / "patients.csv", index=False)
    via_parquet = validate(read_tables([tmp_path / "trial_patients.parquet"]),
                           base=bundled_dataset())
    via_csv = validate(read_tables([tmp_path / "patients.csv"]), base=bundled_dataset())
    assert via_parquet.sha256 == via_csv.sha256 == typed.sha256


def test_unreadable_or_unnamed_files_are_reported_together(tmp_path) -> None:
    (tmp_path / "mystery.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidArgument) as caught:
        read_tables([tmp_path / "mystery.csv", tmp_path / "missing.csv"])
    assert [v.rule.split(";")[0] for v in caught.value.violations] == [
        "cannot tell which table it holds", "no such file"]


def test_canonical_hash_ignores_representation() -> None:
    base = bundled_dataset()
    a = validate({"patients": _patients(2)}, base=base)
    b = validate({"patients": _patients(2).assign(age_years="54.0")[
        list(reversed(_patients(2).columns))]}, base=base)
    assert a.sha256 == b.sha256
    assert Dataset.from_records(a.to_records()).sha256 == a.sha256


def test_contract_columns_match_the_design_brief() -> None:
    assert TABLES["arms"].names[:9] == ("arm_id", "trial", "product", "target", "costim",
                                       "cell_source", "cell_type", "disease", "setting")
    assert "response_group" in TABLES["kinetic_strata"].names
