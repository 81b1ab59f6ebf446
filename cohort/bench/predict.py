"""The predict suite: posterior-predictive throughput of the engine over a size grid.

Two paths, because they scale differently: `predict` (what PredictCohort serves) draws
each trial's counts as exact Binomial(n, rate) per draw, so its cost barely depends on the
patient count n and its patient-draws/s grows with n; `simulate` (raw virtual patients)
really computes every patient, so its patient-draws/s is the per-patient throughput.
"""

from __future__ import annotations

import time
from dataclasses import replace

from cohort.bench.plan import PredictPlan
from cohort.bench.results import Log, Result, Run, describe, failed, result
from cohort.engine import Engine, EngineConfig
from cohort.spec import CohortSpec, Product, Regimen
from cohort.workflow import Fitted

SUITE = "predict"
AXI_CEL_LD = Regimen(flu_mg_m2_day=30.0, flu_days=3, cy_mg_m2_day=500.0, cy_days=3)


def bench_spec(product: str, disease: str, patients: int, draws: int) -> CohortSpec:
    """A known product in a new trial with standard Flu/Cy (what a typical query asks)."""
    return CohortSpec(product=Product(name=product), disease=disease, ld=AXI_CEL_LD,
                      patient_count=patients, draw_count=draws)


def _predict(engine: Engine, spec: CohortSpec) -> None:
    engine.predict(spec)


def _simulate(engine: Engine, spec: CohortSpec) -> None:
    for _ in engine.patients(spec):
        pass


PATHS = {"predict": _predict, "simulate": _simulate}


def _seconds(path: str, engine: Engine, spec: CohortSpec) -> float:
    """Wall time of one call; the engine returns numpy arrays, so the work is done."""
    start = time.perf_counter()
    PATHS[path](engine, spec)
    return time.perf_counter() - start


def _timed(path: str, engine: Engine, spec: CohortSpec) -> Run:
    seconds = _seconds(path, engine, spec)
    return {"seconds": seconds,
            "patient_draws_per_s": spec.patient_count * spec.draw_count / seconds}


def _dtype_results(fitted: Fitted, plan: PredictPlan, dtype: str, repeats: int, device: str,
                   log: Log) -> list[Result]:
    start = time.perf_counter()
    engine = Engine.load(fitted.data, fitted.idata, EngineConfig(dtype=dtype))
    results = [result(SUITE, device, {"path": "load", "dtype": dtype},
                      [{"load_s": time.perf_counter() - start}])]
    index = engine.catalogue.index
    for draws in plan.draws:
        for patients in plan.patients:
            for path in PATHS:
                if path == "simulate" and patients * draws > plan.max_simulated:
                    continue
                case = {"path": path, "dtype": dtype, "draws": draws, "patients": patients}
                spec = bench_spec(index.products[0], index.diseases[0], patients, draws)
                # the first call of a shape compiles (once per draw bucket for predict, per
                # draw and patient bucket for simulate); the timed calls follow it
                first = _seconds(path, engine, spec)
                runs = [_timed(path, engine, replace(spec, seed=r + 1)) for r in range(repeats)]
                runs[0]["first_call_s"] = first
                results.append(result(SUITE, device, case, runs))
                log(f"predict {device} {describe(case)}: "
                    f"{results[-1]['summary']['patient_draws_per_s']['median']:.3g} "
                    "patient-draws/s")
    return results


def run_predict(fitted: Fitted, plan: PredictPlan, repeats: int, device: str, log: Log
                ) -> list[Result]:
    """Every dtype's grid; a dtype that fails (e.g. memory) is reported, the rest still run."""
    results = []
    for dtype in plan.dtypes:
        try:
            results += _dtype_results(fitted, plan, dtype, repeats, device, log)
        except Exception as error:  # noqa: BLE001 - reported in bench.json, never hidden
            results.append(failed(SUITE, device, {"dtype": dtype}, error))
            log(f"predict {device} dtype={dtype}: failed ({results[-1]['reason']})")
    return results
