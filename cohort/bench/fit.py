"""The fit suite: NUTS on the bundled data and on synthetic data of growing size.

Every case is one `fit_model` call (the production sampler, chunked and gated as usual);
its figures come from the FitResult: timings, diagnostics and the sampler's own
`n_steps` (leapfrog steps = gradient evaluations). Cases vary one thing at a time from
the bundled baseline: chain method, float precision, chain count, data size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax

from cohort.bench.plan import FitPlan
from cohort.bench.results import Log, Result, Run, describe, failed, not_applicable, result
from cohort.bundled import bundled_dataset
from cohort.fit import FitConfig, Progress, ProgressFn, choose_chain_method, fit_model
from cohort.model import build_model_data, cohort_model
from cohort.synthetic import SyntheticConfig, simulate

SUITE = "fit"


class Workload(NamedTuple):
    """A model and its data, with the sizes a reader needs to interpret the figures."""

    name: str
    model: Callable
    model_kwargs: Mapping[str, Any]
    patients: int  # patients the data describe (aggregate arms + IPD)
    ipd_patients: int


@dataclass(frozen=True)
class FitCase:
    data: str  # "bundled" or "synthetic"
    patients: int  # requested synthetic size (runs record the sizes drawn); 0: bundled data
    chains: int
    chain_method: str
    dtype: str
    warmup: int
    samples: int
    max_tree_depth: int
    experiment: str  # which comparison this case belongs to (a table of bench.md)

    def config(self, seed: int) -> FitConfig:
        # chunks of 10 iterations: the time limit is checked that often
        return FitConfig(num_chains=self.chains, num_warmup=self.warmup,
                         num_samples=self.samples, seed=seed, chain_method=self.chain_method,
                         max_tree_depth=self.max_tree_depth, x64=self.dtype == "float64",
                         chunk_size=10)

    def labels(self) -> dict[str, str | int]:
        size = {"patients": self.patients} if self.data == "synthetic" else {}
        return {"experiment": self.experiment, "data": self.data, **size, "chains": self.chains,
                "chain_method": self.chain_method, "dtype": self.dtype, "warmup": self.warmup,
                "samples": self.samples, "max_tree_depth": self.max_tree_depth}


def fit_cases(plan: FitPlan) -> list[FitCase]:
    """The cases of one device, baseline first; the baseline in a fit's default float."""
    dtype = "float64" if FitConfig().x64 else "float32"
    other = "float32" if dtype == "float64" else "float64"
    depth = plan.max_tree_depth
    methods = [m for m in plan.methods if m != "vectorized"]
    cases = [FitCase("bundled", 0, plan.chains, m, dtype, plan.warmup, plan.samples, depth,
                     "chain method") for m in ["vectorized", *methods]]
    cases.append(FitCase("bundled", 0, plan.chains, "vectorized", other, plan.warmup,
                         plan.samples, depth, "precision"))
    cases += [FitCase("bundled", 0, n, "vectorized", dtype, plan.sweep_warmup, plan.sweep_samples,
                      depth, "chain count") for n in plan.chain_counts]
    cases += [FitCase("synthetic", n, plan.chains, "vectorized", dtype, plan.synthetic_warmup,
                      plan.synthetic_samples, depth, "data size") for n in plan.patients]
    baseline = cases[0]  # always: every comparison is read against it
    return [baseline] + [c for c in cases[1:] if c.experiment in plan.experiments]


def bundled_workload() -> Workload:
    dataset = bundled_dataset()
    data = build_model_data(dataset.arms, dataset.kinetic_strata, dataset.patients)
    return Workload("bundled", cohort_model, {"data": data},
                    int(dataset.arms["n_treated"].sum()), len(dataset.patients))


def synthetic_workload(rng_key: jax.Array, patients: int, arms: int, ipd_share: float
                       ) -> Workload:
    """About `patients` patients in `arms` arms; a share `ipd_share` of the arms (so about
    that share of the patients) also comes as individual patient data."""
    config = SyntheticConfig(n_arms=arms, patients_per_arm=max(2, patients // arms),
                             ipd_fraction=ipd_share)
    tables, _ = simulate(rng_key, config)
    data = build_model_data(tables["arms"], tables["kinetic_strata"], tables["patients"])
    return Workload(f"synthetic-{patients}", cohort_model, {"data": data},
                    int(tables["arms"]["n_treated"].sum()), len(tables["patients"]))


class TimeLimitReached(Exception):
    """A fit case ran past --fit-time-limit; the message says how far it got and how fast."""


def _time_limit(limit_s: float | None) -> ProgressFn | None:
    """A progress callback that stops the fit once `limit_s` seconds have passed."""
    if limit_s is None:
        return None
    start = time.perf_counter()

    def check(progress: Progress) -> None:
        elapsed = time.perf_counter() - start
        if elapsed > limit_s:
            more = "" if progress.eta_seconds is None else \
                f"; at that speed about {progress.eta_seconds:.0f} s more"
            raise TimeLimitReached(
                f"stopped at the time limit ({limit_s:.0f} s): {progress.phase} iteration "
                f"{progress.iteration}/{progress.total} after {elapsed:.0f} s incl. compile"
                f"{more}")
    return check


def measure(rng_key: jax.Array, workload: Workload, config: FitConfig,
            limit_s: float | None = None) -> Run:
    """One fit's figures (the default gate's verdict included: §8 asks for a passing fit)."""
    fit = fit_model(rng_key, workload.model, workload.model_kwargs, config,
                    on_progress=_time_limit(limit_s))
    t, d = fit.timings, fit.diagnostics
    steps = float(fit.idata.sample_stats["n_steps"].sum())
    return {"wall_s": t.wall_s, "wall_excl_compile_s": t.wall_s - t.compile_s,
            "compile_s": t.compile_s, "warmup_s": t.warmup_s, "sampling_s": t.sampling_s,
            "other_s": t.wall_s - t.compile_s - t.warmup_s - t.sampling_s,
            "min_ess_bulk": d.min_ess_bulk, "min_ess_bulk_per_s": d.min_ess_bulk / t.sampling_s,
            "grad_evals_per_s": steps / t.sampling_s, "divergences": d.divergences,
            "max_rhat": d.max_rhat, "gate_passed": d.passed, "gate_reasons": "; ".join(d.reasons),
            "chain_method_run": fit.chain_method,
            "patients": workload.patients, "ipd_patients": workload.ipd_patients}


def parallel_problem(case: FitCase) -> str | None:
    """Why 'parallel' cannot run here (numpyro would silently go sequential), or None."""
    try:
        choose_chain_method(case.chain_method, case.chains, jax.device_count())
    except ValueError as error:
        return (f"{error} (JAX sees {jax.device_count()} {jax.default_backend()} device(s); "
                "numpyro would silently run the chains one after another)")
    return None


def run_cases(rng_key: jax.Array, cases: list[FitCase], workloads: Callable[[FitCase], Workload],
              repeats: int, device: str, log: Log, limit_s: float | None = None
              ) -> list[Result]:
    """Every case `repeats` times on this process's JAX platform; a case that fails (or
    runs past `limit_s` seconds) is reported as failed and the others still run."""
    results = []
    for number, case in enumerate(cases):
        labels = case.labels()
        if (problem := parallel_problem(case)) is not None:
            results.append(not_applicable(SUITE, device, labels, problem))
            log(f"fit {device} {describe(labels)}: not applicable ({problem})")
            continue
        try:
            workload, runs = workloads(case), []
            for repeat in range(repeats):
                key = jax.random.fold_in(jax.random.fold_in(rng_key, number), repeat)
                runs.append(measure(key, workload, case.config(seed=repeat), limit_s))
                log(f"fit {device} {describe(labels)} run {repeat + 1}/{repeats}: "
                    f"wall {runs[-1]['wall_s']:.1f} s, min ESS/s "
                    f"{runs[-1]['min_ess_bulk_per_s']:.3g}")
            results.append(result(SUITE, device, labels, runs))
        except Exception as error:  # noqa: BLE001 - e.g. out of memory at 64 chains on a GPU
            results.append(failed(SUITE, device, labels, error))
            log(f"fit {device} {describe(labels)}: failed ({results[-1]['reason']})")
    return results


def workload_source(rng_key: jax.Array, plan: FitPlan, ipd_share: float
                    ) -> Callable[[FitCase], Workload]:
    """Builds each case's data once (the same synthetic data set for every repeat)."""
    cache: dict[int, Workload] = {}

    def get(case: FitCase) -> Workload:
        if case.patients not in cache:
            cache[case.patients] = (bundled_workload() if case.data == "bundled" else
                                    synthetic_workload(jax.random.fold_in(rng_key, case.patients),
                                                       case.patients, plan.synthetic_arms,
                                                       ipd_share))
        return cache[case.patients]

    return get
