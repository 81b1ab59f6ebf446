"""The refit suite: a warm-started refit after one new arm against a cold fit of the same
data (DESIGN §8 asks for ≤ 0.5× the cold wall time).

Two scenarios: the new arm joins an existing trial (every parameter keeps its shape), or it
is a new trial (the trial effects grow by one row, which starts at 0 — cohort.warmstart);
each run's `warm_started` / `warm_start_note` record what the refit reused.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from cohort.bench.plan import RefitPlan
from cohort.bench.results import Log, Result, Run, describe, failed, result
from cohort.dataset import Dataset
from cohort.fit import FitConfig, FitResult
from cohort.home import Home
from cohort.snapshot import Snapshot
from cohort.workflow import Fitted, fit_snapshot, load_dataset

SUITE = "refit"
NEW_ARM = "BENCH-new-arm"
NEW_TRIAL = "BENCH new trial"
SCENARIOS = ("existing trial", "new trial")


def with_new_arm(dataset: Dataset, scenario: str) -> Dataset:
    """`dataset` plus a replicate of its largest arm that states Flu and Cy (doses of the
    other agents set to 0 = not given, so no latent dose is added), in the same trial or
    in a new one."""
    arms = dataset.arms
    stated = arms["flu_mg_m2_day"].notna() & arms["cy_mg_m2_day"].notna()
    arm = arms[stated].sort_values("n_treated", ascending=False).head(1).copy()
    arm["arm_id"] = NEW_ARM
    arm[["benda_mg_m2_day", "benda_days"]] = arm[["benda_mg_m2_day", "benda_days"]].fillna(0)
    arm["anti_cd52"] = arm["anti_cd52"].fillna(0)
    if scenario == "new trial":
        arm["trial"] = NEW_TRIAL
    return Dataset.concat([dataset, Dataset.from_tables({"arms": pd.DataFrame(arm)})])


def _figures(cold: FitResult, warm: FitResult) -> Run:
    c, w = cold.timings, warm.timings
    return {"cold_wall_s": c.wall_s, "warm_wall_s": w.wall_s,
            "warm_to_cold": w.wall_s / c.wall_s,
            "warm_to_cold_excl_compile": (w.wall_s - w.compile_s) / (c.wall_s - c.compile_s),
            "warm_started": warm.warm_started, "warm_start_note": warm.warm_start_note,
            "cold_gate_passed": cold.diagnostics.passed,
            "warm_gate_passed": warm.diagnostics.passed,
            "cold_gate_reasons": "; ".join(cold.diagnostics.reasons),
            "warm_gate_reasons": "; ".join(warm.diagnostics.reasons),
            "cold_min_ess_bulk": cold.diagnostics.min_ess_bulk,
            "warm_min_ess_bulk": warm.diagnostics.min_ess_bulk}


def run_refit(base: Fitted, home: Home, plan: RefitPlan, repeats: int, device: str,
              log: Log) -> list[Result]:
    """Per scenario and repeat: cold fit and warm refit (from `base`, a version in the
    scratch home `home`) of base + one arm; the alias is never moved."""
    dataset = load_dataset(base.version)
    position = int(base.version.manifest.get("snapshot_position", 0)) + 1
    config = FitConfig(num_chains=plan.chains, num_warmup=plan.warmup, num_samples=plan.samples,
                       warm_start_warmup=plan.warm_start_warmup,
                       max_tree_depth=plan.max_tree_depth)
    results = []
    for scenario in SCENARIOS:
        case = {"scenario": scenario, "chains": plan.chains, "cold_warmup": plan.warmup,
                "warm_warmup": plan.warm_start_warmup, "samples": plan.samples,
                "max_tree_depth": plan.max_tree_depth}
        try:
            snapshot = Snapshot.of(with_new_arm(dataset, scenario), position)
            runs = []
            for repeat in range(repeats):
                seeded = replace(config, seed=repeat)
                _, cold = fit_snapshot(home, snapshot, seeded)
                _, warm = fit_snapshot(home, snapshot, seeded, init_from=base.version.id)
                runs.append(_figures(cold, warm))
                log(f"refit {device} {describe(case)} run {repeat + 1}/{repeats}: warm/cold "
                    f"{runs[-1]['warm_to_cold']:.2f} ({warm.warm_start_note})")
            results.append(result(SUITE, device, case, runs))
        except Exception as error:  # noqa: BLE001 - reported in bench.json, never hidden
            results.append(failed(SUITE, device, case, error))
            log(f"refit {device} {describe(case)}: failed ({results[-1]['reason']})")
    return results
