"""One benchmark result: a case (what was measured, where) and its runs, summarised.

A result is plain JSON (bench.json's `results` items): `runs` keep every repeat's raw
values, `summary` gives median / min / max of each numeric one. Cases that cannot run on a
device (e.g. 'parallel' chains on one device) are results too, with status 'not
applicable' and the reason: nothing is skipped silently.
"""

from __future__ import annotations

import math
import statistics
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

Scalar = str | int | float | bool | None
Run = dict[str, Scalar]
Result = dict[str, Any]
Log = Callable[[str], None]
OK, NOT_APPLICABLE, FAILED = "ok", "not applicable", "failed"


class Metric(NamedTuple):
    unit: str
    better: str  # "higher" or "lower"
    meaning: str


METRICS: dict[str, Metric] = {
    "wall_s": Metric("s", "lower", "whole fit: initialisation, compile, warm-up, sampling, "
                     "posterior post-processing and diagnostics"),
    "wall_excl_compile_s": Metric("s", "lower", "wall_s minus compile_s"),
    "compile_s": Metric("s", "lower", "initialisation and compile of the sampler"),
    "warmup_s": Metric("s", "lower", "warm-up iterations"),
    "sampling_s": Metric("s", "lower", "kept iterations"),
    "other_s": Metric("s", "lower", "log-likelihood (with its compile), InferenceData and "
                      "diagnostics after sampling"),
    "min_ess_bulk": Metric("draws", "higher", "smallest bulk ESS over all parameters"),
    "min_ess_bulk_per_s": Metric("1/s", "higher", "min_ess_bulk / sampling_s"),
    "grad_evals_per_s": Metric("1/s", "higher", "leapfrog steps (= gradient evaluations) "
                               "of all chains while sampling / sampling_s"),
    "divergences": Metric("count", "lower", "divergent transitions after warm-up"),
    "max_rhat": Metric("", "lower", "largest split R-hat"),
    "load_s": Metric("s", "lower", "Engine.load: posterior preparation, including its compile"),
    "first_call_s": Metric("s", "lower", "first predict of a new draw bucket (compiles)"),
    "steady_s": Metric("s", "lower", "a later predict of the same bucket"),
    "seconds": Metric("s", "lower", "one call"),
    "patient_draws_per_s": Metric("1/s", "higher", "patients × draws / seconds"),
    "latency_ms": Metric("ms", "lower", "one RPC, client side"),
    "p50_ms": Metric("ms", "lower", "median latency"),
    "p99_ms": Metric("ms", "lower", "99th percentile latency"),
    "mean_ms": Metric("ms", "lower", "mean latency"),
    "max_ms": Metric("ms", "lower", "slowest call"),
    "requests": Metric("count", "higher", "timed calls"),
    "overhead_p50_ms": Metric("ms", "lower", "PredictCohort p50 minus the empty RPC's p50"),
    "rps": Metric("1/s", "higher", "completed requests per second, all clients together"),
    "errors": Metric("count", "lower", "failed requests"),
    "ready_s": Metric("s", "lower", "process start → health SERVING"),
    "listening_s": Metric("s", "lower", "process start → first health answer"),
    "filling_start_s": Metric("s", "lower", "the untimed start that filled the cache"),
    "cold_wall_s": Metric("s", "lower", "cold fit of the data with one new arm"),
    "warm_wall_s": Metric("s", "lower", "warm-started refit of the same data"),
    "warm_to_cold": Metric("", "lower", "warm_wall_s / cold_wall_s"),
    "warm_to_cold_excl_compile": Metric("", "lower", "the same ratio without compile time"),
}


def summarize(runs: Sequence[Mapping[str, Scalar]]) -> dict[str, dict[str, float | str]]:
    """Median, min and max of every numeric (non-boolean, finite) value over the runs."""
    names = dict.fromkeys(k for run in runs for k in run)
    summary = {}
    for name in names:
        values = [v for run in runs if isinstance(v := run.get(name), int | float)
                  and not isinstance(v, bool) and math.isfinite(v)]
        if values:
            summary[name] = {"median": statistics.median(values), "min": min(values),
                             "max": max(values), "unit": METRICS[name].unit
                             if name in METRICS else ""}
    return summary


def json_scalar(value: Any) -> Scalar:
    """A JSON-ready scalar: numpy numbers become Python ones, NaN / inf become None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result(suite: str, device: str, case: Mapping[str, Scalar], runs: Sequence[Mapping[str, Any]],
           status: str = OK, reason: str = "") -> Result:
    clean = [{k: json_scalar(v) for k, v in run.items()} for run in runs]
    return {"suite": suite, "device": device, "case": dict(case), "status": status,
            "reason": reason, "runs": clean, "summary": summarize(clean)}


def not_applicable(suite: str, device: str, case: Mapping[str, Scalar], reason: str) -> Result:
    return result(suite, device, case, [], NOT_APPLICABLE, reason)


def failed(suite: str, device: str, case: Mapping[str, Scalar], error: BaseException) -> Result:
    """A case that raised: the other cases still run; the error and where it was raised
    say why (a bare AssertionError has no message)."""
    message = "".join(traceback.format_exception_only(type(error), error)).strip()
    frames = traceback.extract_tb(error.__traceback__)
    where = f" (raised at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return result(suite, device, case, [], FAILED, (message[-2000:] + where))


def describe(case: Mapping[str, Scalar]) -> str:
    return " ".join(f"{k}={v}" for k, v in case.items())
