"""The virtual-cohort engine on a real tiny fit of the bundled data (conftest.fitted_home):
answers are well-formed for any valid spec, deterministic, paired, honest about new
products, compiled once per bucket, and bad specs are refused field by field."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohort.contract import DISEASES
from cohort.engine import OUTCOMES, Engine, EngineConfig, kernel
from cohort.errors import IncompatibleVersion, InvalidArgument
from cohort.home import Home
from cohort.spec import CohortSpec, Product, Regimen, parse_spec
from cohort.versions import Version
from cohort.workflow import load_fitted

AXICEL = "axicabtagene ciloleucel (axi-cel)"
FLU_CY = {"flu_mg_m2_day": 30, "flu_days": 3, "cy_mg_m2_day": 500, "cy_days": 3}
ALLO = {"product": {"cell_source": "allogeneic", "cell_type": "CAR-T", "target": "CD19"},
        "disease": "LBCL", "ld": {**FLU_CY, "anti_cd52": True}, "patient_count": 30,
        "draw_count": 800, "seed": 3, "count_thresholds": [5, 15]}


@pytest.fixture(scope="module")
def engine(fitted_home: tuple[Home, Version]) -> Engine:
    home, version = fitted_home
    fitted = load_fitted(home, version.id)
    return Engine.load(fitted.data, fitted.idata)


def _specs(engine: Engine) -> st.SearchStrategy[dict]:
    index = engine.catalogue.index
    known = st.builds(lambda name: {"name": name}, st.sampled_from(index.products))
    new = st.fixed_dictionaries(
        {"cell_type": st.sampled_from(["CAR-T", "CAR-NK"]),
         "target": st.sampled_from(index.targets)},
        optional={"cell_source": st.sampled_from(["autologous", "allogeneic", "iPSC"]),
                  "costim": st.sampled_from(["CD28", "4-1BB", "other"])})
    dose = st.sampled_from([0.0, 10.0, 30.0, 90.0])
    return st.fixed_dictionaries({
        "product": st.one_of(known, new), "disease": st.sampled_from(DISEASES),
        "ld": st.fixed_dictionaries({"flu_mg_m2_day": dose, "cy_mg_m2_day": dose,
                                     "anti_cd52": st.booleans()}),
        "patient_count": st.integers(1, 3000), "draw_count": st.integers(1, 300),
        "seed": st.integers(0, 2**31 - 1), "new_trial": st.booleans(),
        "count_thresholds": st.lists(st.integers(0, 1), max_size=2),
        "kinetic_unit": st.sampled_from(["cells/uL", "copies/ug"])})


def _with_days(raw: dict) -> dict:
    ld = raw["ld"]
    ld |= {f"{a}_days": 3 if ld[f"{a}_mg_m2_day"] > 0 else 0 for a in ("flu", "cy")}
    return raw


def test_any_valid_spec_gets_well_formed_answers(engine: Engine) -> None:
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_specs(engine).map(_with_days))
    def check(raw: dict) -> None:
        spec = parse_spec(raw)
        draws = engine.draws(spec)
        assert draws.rates.shape == (spec.draw_count, len(OUTCOMES))
        assert np.isfinite(draws.rates).all() and np.isfinite(draws.peak_median).all()
        assert ((draws.rates >= 0) & (draws.rates <= 1)).all()
        assert ((draws.counts >= 0) & (draws.counts <= spec.patient_count)).all()
        assert (draws.peak_median > 0).all()
        rates = dict(zip(OUTCOMES, draws.rates.T, strict=True))
        assert (rates["cr"] <= rates["orr"] + 1e-12).all()
        assert (rates["orr_without_crs_g3"] <= rates["orr"] + 1e-12).all()
        prediction = engine.predict(spec)
        for o in prediction.outcomes:
            assert list(o.rate_quantiles) == sorted(o.rate_quantiles)
            assert list(o.count_quantiles) == sorted(o.count_quantiles)
            assert all(0 <= p <= 1 for _, p in o.prob_count_at_least)

    check()


def test_same_seed_same_answer_and_chunking_changes_nothing(engine: Engine) -> None:
    spec = parse_spec({**ALLO, "draw_count": 1000})
    small = Engine(engine.posterior, engine.catalogue, EngineConfig(chunk_draws=128,
                                                                    min_bucket=16))
    first, again, chunked = engine.draws(spec), engine.draws(spec), small.draws(spec)
    for a, b, c in zip(first, again, chunked, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    other = engine.draws(replace(spec, seed=spec.seed + 1))
    assert not np.array_equal(first.rates, other.rates)


def test_patients_do_not_depend_on_batching(engine: Engine) -> None:
    spec = parse_spec({**ALLO, "draw_count": 23, "patient_count": 45})
    small = Engine(engine.posterior, engine.catalogue,
                   EngineConfig(min_bucket=8, patient_chunk=16, batch_rows=100))
    whole = [np.concatenate(c) for c in zip(*engine.patients(spec), strict=True)]
    parts = [np.concatenate(c) for c in zip(*small.patients(spec), strict=True)]
    order = np.lexsort((parts[1], parts[0]))
    assert len(whole[0]) == 23 * 45
    for a, b in zip(whole, parts, strict=True):
        np.testing.assert_array_equal(a, b[order])


def test_contrast_of_a_spec_with_itself_is_exactly_zero(engine: Engine) -> None:
    spec = parse_spec(ALLO)
    comparison = engine.compare(spec, replace(spec, seed=99))  # b runs with a's seed
    for c in comparison.contrasts:
        assert c.difference_mean == 0 and set(c.difference_quantiles) == {0.0}
        assert set(c.count_difference_quantiles) == {0}
        assert c.prob_greater == 0 and c.prob_count_greater == 0


def test_contrast_is_paired(engine: Engine) -> None:
    a = parse_spec(ALLO)
    b = parse_spec({**ALLO, "ld": {**ALLO["ld"], "cy_mg_m2_day": 300}})
    da, db = engine.draws(a), engine.draws(b)
    comparison = engine.compare(a, b)
    orr = OUTCOMES.index("orr")
    diff = da.rates[:, orr] - db.rates[:, orr]
    assert comparison.contrasts[orr].difference_mean == pytest.approx(diff.mean())
    # paired differences vary far less than unpaired ones would
    assert diff.std() < 0.5 * np.sqrt(da.rates[:, orr].var() + db.rates[:, orr].var())


def _width(engine: Engine, spec: CohortSpec, outcome: str) -> float:
    rates = engine.draws(spec).rates[:, OUTCOMES.index(outcome)]
    return float(np.quantile(rates, 0.95) - np.quantile(rates, 0.05))


def test_new_product_by_attributes_is_wider_than_the_known_product(engine: Engine) -> None:
    known = CohortSpec(product=Product(name=AXICEL), disease="LBCL", ld=Regimen(**FLU_CY),
                       draw_count=2000, new_trial=False)
    new = replace(known, product=Product(cell_source="autologous", cell_type="CAR-T",
                                         costim="CD28", target="CD19"))
    for outcome in ("orr", "cr", "crs_g3", "icans_g3"):
        assert _width(engine, new, outcome) > 1.2 * _width(engine, known, outcome), outcome


def test_gvhd_is_structurally_zero_for_autologous_products(engine: Engine) -> None:
    draws = engine.draws(CohortSpec(product=Product(name=AXICEL), disease="LBCL"))
    gvhd = OUTCOMES.index("gvhd_any")
    assert (draws.rates[:, gvhd] == 0).all() and (draws.counts[:, gvhd] == 0).all()


def test_no_recompilation_after_warm_up(engine: Engine) -> None:
    engine.warm(draw_counts=(1000,), patient_counts=(30,))
    before, cache = engine.traces, kernel.cohort_kernel._cache_size()
    # same buckets (513..1024 draws, 33..64 patients), different everything else
    for raw in ({**ALLO, "draw_count": 1000},
                {**ALLO, "product": {"name": AXICEL}, "disease": "MM", "draw_count": 600},
                {**ALLO, "disease": "HL", "new_trial": False, "patient_count": 5000},
                {**ALLO, "draw_count": 1024, "seed": 11, "kinetic_unit": "cells/uL"}):
        engine.predict(parse_spec(raw))
    list(engine.patients(parse_spec({**ALLO, "draw_count": 900, "patient_count": 40})))
    assert engine.traces == before
    assert kernel.cohort_kernel._cache_size() == cache


def test_bad_fields_are_all_reported_against_the_version(engine: Engine) -> None:
    spec = CohortSpec(product=Product(name="no such product"), disease="Flu",
                      kinetic_unit="mg")
    with pytest.raises(InvalidArgument) as error:
        engine.predict(spec)
    assert {v.field for v in error.value.violations} == {"product.name", "disease",
                                                         "kinetic_unit"}
    assert AXICEL in next(v.rule for v in error.value.violations if v.field == "product.name")
    new = CohortSpec(product=Product(cell_type="CAR-T", target="CD19/CD70"), disease="LBCL")
    with pytest.raises(InvalidArgument) as error:
        engine.predict(new)
    (violation,) = error.value.violations
    assert violation.field == "product.target" and "CD70" in violation.rule
    conflict = CohortSpec(product=Product(name=AXICEL, costim="4-1BB", target="BCMA"),
                          disease="LBCL")
    with pytest.raises(InvalidArgument) as error:
        engine.predict(conflict)
    assert {v.field for v in error.value.violations} == {"product.costim", "product.target"}


def test_sweep_returns_one_prediction_per_value(engine: Engine) -> None:
    spec = parse_spec({**ALLO, "draw_count": 200})
    sweep = engine.sweep(spec, "ld.flu_mg_m2_day", [10, 20, 40])
    assert [p.spec.ld.flu_mg_m2_day for p in sweep.predictions] == [10, 20, 40]
    mean, low, high = sweep.curve("orr")
    assert mean.shape == (3,) and (low <= mean).all() and (mean <= high).all()
    for path, values in (("ld.flu_mg_m2_days", [1]), ("ld.benda_mg_m2_day", [90]),
                         ("ld.flu_mg_m2_day", [-1])):
        with pytest.raises(InvalidArgument) as error:
            engine.sweep(spec, path, values)
        assert error.value.violations[0].field.startswith("sweep."), path


def test_a_posterior_of_an_earlier_model_revision_is_refused_by_name(
        fitted_home: tuple[Home, Version]) -> None:
    """A version fitted before a reparameterisation has other sites; replaying it must be
    refused with the missing names, not fail inside numpyro (an unseeded sample)."""
    home, version = fitted_home
    fitted = load_fitted(home, version.id)
    idata = fitted.idata.copy()
    idata.posterior = idata.posterior.rename({"cut_low_marginal": "cut_low"})
    with pytest.raises(IncompatibleVersion, match="cut_low_marginal") as error:
        Engine.load(fitted.data, idata)
    assert error.value.reason == "INCOMPATIBLE_VERSION"
