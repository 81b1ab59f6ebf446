"""`cohort bench`: CPU vs GPU sampling, predictive throughput, serving, start-up and refit
figures (DESIGN §8), written as bench.json (schema.json), bench.md and PNG plots.

    document = run_benchmark(Options(quick=True), ["fit", "predict"], ["cpu", "gpu"],
                             Path("bench-out"), Home.resolve(None), {}, print)
"""

from cohort.bench.plan import DEVICES, SUITES, Options, Plan, make_plan
from cohort.bench.results import METRICS, Result
from cohort.bench.runner import Context, Device, ExternalSuite, run_benchmark
from cohort.bench.schema import load_schema, problems

__all__ = [
    "DEVICES",
    "METRICS",
    "SUITES",
    "Context",
    "Device",
    "ExternalSuite",
    "Options",
    "Plan",
    "Result",
    "load_schema",
    "make_plan",
    "problems",
    "run_benchmark",
]
