"""`cohort bench`: its document validates against the schema, every suite's measurement
path runs (tiny sizes), a missing GPU is reported and never skipped. No test asserts a speed.

Compile time dominates every real fit here (minutes on a shared 2-core CPU), so the default
tests run the fit suite's machinery on a toy model and the predict suite on the session's
tiny fitted model; the whole `cohort bench --quick` (every suite, the real model, a real
`cohort serve`) runs under `pytest -m slow`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
import pytest

from cohort.bench import Context, Options, load_schema, make_plan, problems, run_benchmark
from cohort.bench.fit import FitCase, Workload, fit_cases, run_cases, synthetic_workload
from cohort.bench.plan import FitPlan, PredictPlan
from cohort.bench.predict import run_predict
from cohort.bench.refit import NEW_ARM, NEW_TRIAL, with_new_arm
from cohort.bench.results import result
from cohort.bundled import bundled_dataset
from cohort.cli import EXIT_INVALID, main
from cohort.home import Home
from cohort.versions import Version
from cohort.workflow import load_fitted, model_data


def _valid(document: dict[str, Any]) -> None:
    """Against schema.json: with the built-in checker, and with jsonschema when installed."""
    assert problems(document) == []
    try:
        import jsonschema
    except ImportError:
        return
    jsonschema.Draft202012Validator(load_schema()).validate(document)


def _bench(tmp_path: Path, home: Path, *flags: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "out"
    code = main(["--home", str(home), "bench", "--out", str(out), *flags])
    return code, json.loads((out / "bench.json").read_text()), (out / "bench.md").read_text()


def test_schema_file_is_a_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(load_schema())


def test_checker_names_every_problem() -> None:
    found = problems({"schema": "cohort.bench/1", "quick": "yes", "results": [
        {"suite": "fit", "device": "tpu", "case": {}, "status": "ok", "reason": "",
         "runs": [{"wall_s": [1]}], "summary": {}}]})
    assert "$: missing 'machine'" in found
    assert "$.quick: expected boolean, got str" in found
    assert any(p.startswith("$.results[0].device: 'tpu'") for p in found)
    assert any(p.startswith("$.results[0].runs[0].wall_s: expected") for p in found)


def test_bad_flags_are_reported_together(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["bench", "--suite", "fit,nope", "--devices", "tpu", "--ipd-share", "2",
                 "--fit-experiments", "sizes,speed", "--patients", "1000,5",
                 "--fit-time-limit", "-1", "--synthetic-iterations", "100", "--out",
                 str(tmp_path)])
    assert code == EXIT_INVALID
    err = capsys.readouterr().err
    assert "nope" in err and "tpu" in err and "--ipd-share" in err
    assert "speed" in err and "--patients" in err and " 5 " in err
    assert "--fit-time-limit" in err and "-1" in err
    assert "--synthetic-iterations" in err and "WARMUP,SAMPLES" in err


def test_fit_experiments_choose_the_cases_around_the_baseline() -> None:
    options = Options(fit_experiments=("sizes",), patients=(1_000, 10_000))
    cases = fit_cases(make_plan(options).fit)
    assert [(c.experiment, c.data, c.patients, c.warmup) for c in cases] == [
        ("chain method", "bundled", 0, 1000), ("data size", "synthetic", 1_000, 300),
        ("data size", "synthetic", 10_000, 300)]
    shorter = Options(fit_experiments=("sizes",), patients=(10_000,),
                      synthetic_iterations=(100, 150))
    assert [(c.data, c.warmup, c.samples) for c in fit_cases(make_plan(shorter).fit)] \
        == [("bundled", 1000, 1000), ("synthetic", 100, 150)]
    everything = fit_cases(make_plan(Options()).fit)
    assert {c.experiment for c in everything} == {"chain method", "precision", "chain count",
                                                  "data size"}


def test_a_missing_gpu_is_reported_not_skipped(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")  # the same answer on a machine with a GPU
    code, document, markdown = _bench(tmp_path, tmp_path / "empty-home", "--quick",
                                      "--suite", "fit,predict", "--devices", "gpu")
    _valid(document)
    assert code == 0
    assert document["devices"]["gpu"]["status"] == "not available"
    assert "JAX_PLATFORMS=cpu" in document["devices"]["gpu"]["reason"]
    assert document["devices"]["cpu"]["status"] == "not requested"
    suites = document["suites"]
    assert suites["fit"]["status"] == "skipped" and "gpu not available" in suites["fit"]["reason"]
    assert suites["predict"]["status"] == "skipped" and "cohort fit" in suites["predict"]["reason"]
    assert "*gpu: not available" in markdown and document["results"] == []


def _toy(y: jax.Array) -> None:
    mu = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = numpyro.sample("tau", dist.HalfNormal(5.0))
    with numpyro.plate("group", y.shape[0]):
        theta = numpyro.sample("theta", dist.Normal(mu, tau))
        numpyro.sample("y", dist.Normal(theta, 1.0), obs=y)


def test_fit_suite_measures_each_case_or_says_why_not() -> None:
    """The fit machinery on a toy model (the real one compiles for minutes)."""
    plan = FitPlan(chains=2, warmup=10, samples=10, methods=("vectorized", "parallel"),
                   patients=(), chain_counts=(), max_tree_depth=3)
    cases = fit_cases(plan)
    assert [(c.experiment, c.chain_method, c.dtype) for c in cases] == [
        ("chain method", "vectorized", "float64"), ("chain method", "parallel", "float64"),
        ("precision", "vectorized", "float32")]
    toy = Workload("toy", _toy, {"y": jnp.arange(6.0)}, 6, 0)
    lines: list[str] = []
    results = run_cases(jax.random.PRNGKey(0), cases, lambda case: toy, 1, "cpu", lines.append)
    vectorized, parallel, float32 = results
    for r in (vectorized, float32):
        assert r["status"] == "ok", r["reason"]
        run = r["runs"][0]
        assert run["chain_method_run"] == "vectorized" and run["grad_evals_per_s"] > 0
        assert run["wall_s"] >= run["compile_s"] + run["sampling_s"]
        assert set(r["summary"]) >= {"wall_s", "min_ess_bulk_per_s", "divergences"}
        # 20 draws cannot reach the default gate's ESS 400: the run says which criterion
        assert not run["gate_passed"] and "min bulk ESS" in run["gate_reasons"]
    if jax.device_count() < 2:
        assert parallel["status"] == "not applicable"
        assert "one device per chain" in parallel["reason"]
    assert float32["case"]["dtype"] == "float32" and len(lines) == 3


def test_a_fit_past_the_time_limit_is_stopped_and_says_how_far_it_got() -> None:
    plan = FitPlan(chains=2, warmup=20, samples=20, methods=("vectorized",), patients=(),
                   chain_counts=(), max_tree_depth=3, experiments=("chain method",))
    toy = Workload("toy", _toy, {"y": jnp.arange(6.0)}, 6, 0)
    stopped, = run_cases(jax.random.PRNGKey(0), fit_cases(plan), lambda case: toy, 1,
                         "cpu", lambda line: None, limit_s=1e-9)
    assert stopped["status"] == "failed" and stopped["runs"] == []
    assert "stopped at the time limit" in stopped["reason"]
    assert "warmup iteration 10/20" in stopped["reason"]  # checked every 10 iterations


def test_synthetic_sizes_and_ipd_share() -> None:
    workload = synthetic_workload(jax.random.PRNGKey(1), 600, 6, ipd_share=1.0)
    assert 300 <= workload.patients <= 900
    assert workload.ipd_patients == workload.patients  # every arm also given as patients
    none = synthetic_workload(jax.random.PRNGKey(1), 600, 6, ipd_share=0.0)
    assert none.ipd_patients == 0


def test_new_arm_keeps_or_adds_a_trial_but_no_latent_dose() -> None:
    base = bundled_dataset()
    same = with_new_arm(base, "existing trial")
    new = with_new_arm(base, "new trial")
    assert len(same.arms) == len(base.arms) + 1
    assert same.arms["trial"].nunique() == base.arms["trial"].nunique()
    assert new.arms["trial"].nunique() == base.arms["trial"].nunique() + 1
    assert NEW_TRIAL in set(new.arms["trial"])
    assert same.arms["arm_id"].iloc[-1] == NEW_ARM
    # no latent dose added: a warm start needs unchanged parameter shapes
    assert model_data(same).ld.unknown.sum() == model_data(base).ld.unknown.sum()


def test_predict_suite_on_the_fitted_model(fitted_home: tuple[Home, Version]) -> None:
    plan = PredictPlan(patients=(10, 40), draws=(64,), dtypes=("float32", "float64"),
                       max_simulated=1000)
    lines: list[str] = []
    results = run_predict(load_fitted(fitted_home[0]), plan, 2, "cpu", lines.append)
    assert all(r["status"] == "ok" for r in results), [r["reason"] for r in results]
    cases = [(r["case"]["path"], r["case"]["dtype"], r["case"].get("patients")) for r in results]
    assert cases[:4] == [("load", "float32", None), ("predict", "float32", 10),
                         ("simulate", "float32", 10), ("predict", "float32", 40)]
    assert ("simulate", "float32", 40) not in cases  # 40 × 64 > max_simulated ≥ 10 × 64
    predict = results[1]
    assert len(predict["runs"]) == 2 and "first_call_s" in predict["runs"][0]
    assert predict["summary"]["patient_draws_per_s"]["min"] > 0


def test_document_report_and_plots_with_an_external_suite(
        fitted_home: tuple[Home, Version], tmp_path: Path) -> None:
    """The runner's contract with suites defined outside cohort (the server's)."""
    seen: list[Context] = []

    def fake_serve(context: Context) -> list[dict[str, Any]]:
        seen.append(context)
        return [result("serve", context.device.name, {
            "measure": "latency", "rpc": "PredictCohort", "patients": p, "draws": 100,
            "patient_draws": p * 100}, [{"p50_ms": 2.0 + p, "p99_ms": 9.0}] * 2)
            for p in (10, 30)]

    out = tmp_path / "out"
    document = run_benchmark(Options(quick=True), ["serve", "startup"], ["cpu", "gpu"], out,
                             fitted_home[0], {"serve": fake_serve}, lambda line: None)
    _valid(json.loads((out / "bench.json").read_text()))
    assert document["suites"]["serve"]["status"] == "done"
    assert document["suites"]["startup"]["status"] == "skipped"  # not given: no server here
    context = seen[0]
    assert context.device.env["JAX_PLATFORMS"] == "cpu" and context.plan == make_plan(
        Options(quick=True))
    assert load_fitted(context.home).version.id == fitted_home[1].id  # a copy, in OUT/home
    assert context.home.root == (out / "home").resolve()
    markdown = (out / "bench.md").read_text()
    assert "| cpu | 10 | 1000 | 12 | 9 |  |" in markdown  # varying labels, then figures
    assert (out / "serve.png").stat().st_size > 0 and not (out / "fit.png").exists()


def test_fit_case_config_carries_every_setting() -> None:
    case = FitCase("bundled", 0, 4, "sequential", "float32", 7, 8, 5, "chain method")
    config = case.config(seed=3)
    assert (config.num_chains, config.chain_method, config.x64, config.num_warmup,
            config.num_samples, config.max_tree_depth, config.seed) == (
        4, "sequential", False, 7, 8, 5, 3)


@pytest.mark.slow
def test_quick_benchmark_of_every_suite(fitted_home: tuple[Home, Version], tmp_path: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    """The real thing at tiny sizes: real model fits, engine, refits and `cohort serve`."""
    from server.cli import main as server_main

    out = tmp_path / "out"
    code = server_main(["--home", str(fitted_home[0].root), "bench", "--quick", "--out",
                        str(out)])
    document = json.loads((out / "bench.json").read_text())
    _valid(document)
    assert code == 0, document["suites"]
    assert {name: s["status"] for name, s in document["suites"].items()} == dict.fromkeys(
        ("fit", "predict", "refit", "serve", "startup"), "done")
    failed = [(r["suite"], r["case"], r["reason"]) for r in document["results"]
              if r["status"] == "failed"]
    assert failed == []
    assert {r["suite"] for r in document["results"]} == {"fit", "predict", "refit", "serve",
                                                        "startup"}
    for refit in (r for r in document["results"] if r["suite"] == "refit"):
        for fit in ("cold", "warm"):  # tiny fits fail the gate; the run says why
            run = refit["runs"][0]
            assert (run[f"{fit}_gate_reasons"] == "") == run[f"{fit}_gate_passed"]
    for png in ("fit.png", "predict.png", "serve.png"):
        assert (out / png).stat().st_size > 0
