"""Cohort specs: defaults, sweeps, and one error naming every bad field."""

from __future__ import annotations

import pytest

from cohort.errors import InvalidArgument
from cohort.spec import DEFAULT_QUANTILES, parse_spec

VALID = {
    "product": {"cell_source": "allogeneic", "cell_type": "CAR-T", "target": "CD19"},
    "disease": "LBCL",
    "ld": {"flu_mg_m2_day": 30, "flu_days": 3, "cy_mg_m2_day": 500, "cy_days": 3,
           "anti_cd52": True},
    "patient_count": 30,
}


def test_defaults_are_the_honest_ones() -> None:
    spec = parse_spec(VALID)
    assert spec.new_trial is True and spec.quantiles == DEFAULT_QUANTILES
    assert spec.ld.total("flu") == 90 and spec.ld.total("benda") == 0
    assert spec.product.costim is None  # unknown, marginalised by the engine


def test_sweep_changes_one_field() -> None:
    spec = parse_spec(VALID)
    assert spec.with_value("ld.flu_mg_m2_day", 10).ld.total("flu") == 30
    assert spec.with_value("patient_count", 60).patient_count == 60


BAD = [
    ("patient_count", 0, "patient_count"),
    ("draw_count", 2.5, "draw_count"),
    ("seed", -1, "seed"),
    ("new_trial", "yes", "new_trial"),
    ("quantiles", [0.5, 1.0], "quantiles"),
    ("count_thresholds", [31], "count_thresholds"),
    ("kinetic_unit", "ng/mL", "kinetic_unit"),
    ("disease", "DLBCL", "disease"),
    ("bogus", 1, "bogus"),
]


@pytest.mark.parametrize(("key", "value", "field"), BAD)
def test_each_bad_field_is_named(key: str, value: object, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_spec({**VALID, key: value})
    assert [v.field for v in caught.value.violations] == [field]


def test_all_problems_come_in_one_error() -> None:
    raw = {**dict(BAD[i][:2] for i in range(len(BAD))),
           "product": {"cell_source": "donor"}, "ld": {"flu_mg_m2_day": 30, "cy_days": 2}}
    with pytest.raises(InvalidArgument) as caught:
        parse_spec(raw)
    fields = {v.field for v in caught.value.violations}
    assert fields == {f for _, _, f in BAD} | {"product.cell_source", "product",
                                                "ld.flu_days", "ld.cy_days"}
    flu = next(v for v in caught.value.violations if v.field == "ld.flu_days")
    assert "ld.flu_mg_m2_day > 0" in flu.rule


def test_missing_disease_and_product_are_reported() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_spec({})
    assert {v.field for v in caught.value.violations} == {"product", "disease"}
