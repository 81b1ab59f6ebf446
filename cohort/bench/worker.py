"""`python -m cohort.bench.worker TASK.json RESULT.json`: one suite on one device.

Each device runs in its own process, with JAX_PLATFORMS limiting it to that device: the
fit and the engine report and pick settings from "the" JAX backend (cohort.fit,
cohort.engine), and precision is a process-wide flag, so one process per device is the
only way to measure CPU and GPU side by side honestly. Progress lines go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jax

from cohort.bench.fit import fit_cases, run_cases, workload_source
from cohort.bench.machine import probe_devices
from cohort.bench.plan import Options, make_plan
from cohort.bench.predict import run_predict
from cohort.bench.refit import run_refit
from cohort.bench.results import Result
from cohort.home import Home
from cohort.workflow import load_fitted

SEED = 20_240_601
# Fit cases by process: on CPU, 'parallel' chains run in a process of their own that sees
# one host device per chain (XLA_FLAGS); elsewhere one process runs them all.
FIT_GROUPS = {"all": lambda method: True, "parallel": lambda method: method == "parallel",
              "others": lambda method: method != "parallel"}


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_task(task: dict[str, Any]) -> list[Result] | dict[str, Any]:
    suite, device = task["suite"], task.get("device", "")
    if suite == "probe":
        return probe_devices()
    plan = make_plan(Options(**task["options"]))
    key = jax.random.PRNGKey(SEED)
    if suite == "fit":
        chosen = FIT_GROUPS[task["group"]]
        cases = [c for c in fit_cases(plan.fit) if chosen(c.chain_method)]
        workloads = workload_source(key, plan.fit, plan.options.ipd_share)
        return run_cases(key, cases, workloads, plan.repeats, device, _log,
                         plan.options.fit_time_limit_s)
    home = Home.resolve(task["home"])
    if suite == "predict":
        return run_predict(load_fitted(home), plan.predict, plan.repeats, device, _log)
    if suite == "refit":
        return run_refit(load_fitted(home), home, plan.refit, plan.repeats, device, _log)
    raise ValueError(f"unknown suite {suite!r}")


def main(argv: list[str]) -> None:
    task_path, result_path = (Path(a) for a in argv)
    output = run_task(json.loads(task_path.read_text()))
    result_path.write_text(json.dumps(output))


if __name__ == "__main__":
    main(sys.argv[1:])
