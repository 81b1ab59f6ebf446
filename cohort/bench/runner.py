"""Run the requested suites on every requested device, then write bench.json and bench.md.

Domain suites (fit, predict, refit) run in worker processes, one per device
(cohort.bench.worker); suites that need the gRPC server (serve, startup) are passed in
by the server package as `ExternalSuite`s, since cohort never imports it. Suites that
need a fitted model use a copy of the serving version of the given home, in
OUT/home: the benchmark never writes into the user's home.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from cohort.bench.machine import machine, versions
from cohort.bench.plan import Options, Plan, make_plan
from cohort.bench.report import write_report
from cohort.bench.results import Log, Result
from cohort.bench.schema import SCHEMA_ID, problems
from cohort.home import Home
from cohort.versions import load_version, serving_version, set_serving

DOMAIN_SUITES = ("fit", "predict", "refit")
NEEDS_MODEL = {"predict", "refit", "serve", "startup"}
JSON_FILE = "bench.json"


class Device(NamedTuple):
    """A measured device: its label (cpu, gpu) and the environment of its processes."""

    name: str
    platform: str  # JAX platform name, for JAX_PLATFORMS
    env: Mapping[str, str]


class Context(NamedTuple):
    """What a suite measuring `device` gets."""

    device: Device
    plan: Plan
    home: Home  # scratch home whose serving version is the model under test
    work_dir: Path  # scratch space of this run
    log: Log


ExternalSuite = Callable[[Context], list[Result]]


class WorkerFailed(Exception):
    pass


def device_env(platform: str) -> dict[str, str]:
    return {**os.environ, "JAX_PLATFORMS": platform}


def run_worker(task: Mapping[str, Any], env: Mapping[str, str], work_dir: Path, log: Log) -> Any:
    """Run one worker process; its stderr lines go to `log` as they come."""
    with tempfile.TemporaryDirectory(dir=work_dir) as folder:
        task_path, result_path = Path(folder, "task.json"), Path(folder, "result.json")
        task_path.write_text(json.dumps(task))
        process = subprocess.Popen(
            [sys.executable, "-m", "cohort.bench.worker", str(task_path), str(result_path)],
            env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        tail: deque[str] = deque(maxlen=20)
        assert process.stderr is not None
        for line in process.stderr:
            tail.append(line.rstrip())
            log(line.rstrip())
        if process.wait() != 0:
            raise WorkerFailed(f"worker exited with {process.returncode}: " + "\n".join(tail))
        return json.loads(result_path.read_text())


def probe(work_dir: Path, log: Log) -> dict[str, Any]:
    """The devices JAX sees, probed in a throwaway process (no GPU memory kept here)."""
    env = {**os.environ, "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    return run_worker({"suite": "probe"}, env, work_dir, log)


def device_records(seen: Mapping[str, Any], requested: Sequence[str]) -> dict[str, Any]:
    records = {}
    for name in sorted(set(seen) | set(requested)):
        info = dict(seen.get(name, {"status": "not available", "reason": "not probed"}))
        if info["status"] == "available":
            info["status"] = "measured" if name in requested else "not requested"
        records[name] = info
    return records


def prepare_home(source: Home | None, target: Path) -> tuple[Home | None, str]:
    """A scratch home serving a verified copy of `source`'s serving version, or why not."""
    if source is None:
        return None, "no home given"
    version_id = serving_version(source.models_dir)
    if version_id is None:
        return None, (f"no serving model version in {source.root}: run `cohort fit` "
                      "(or pass --home) first")
    version = load_version(source.models_dir, version_id)  # verifies every checksum
    home = Home.resolve(target)
    if not (home.models_dir / version_id).exists():
        shutil.copytree(version.path, home.models_dir / version_id)
    set_serving(home.models_dir, version_id)
    return home, ""


def _fit_groups(device: Device, plan: Plan) -> list[tuple[str, Mapping[str, str]]]:
    """(group, env) of the fit worker processes of a device (see worker.FIT_GROUPS)."""
    if device.name != "cpu" or "parallel" not in plan.fit.methods:
        return [("all", device.env)]
    flags = (device.env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count="
             f"{plan.fit.chains}").strip()
    return [("others", device.env), ("parallel", {**device.env, "XLA_FLAGS": flags})]


def _domain_suite(name: str) -> ExternalSuite:
    def run(context: Context) -> list[Result]:
        task = {"suite": name, "device": context.device.name, "home": str(context.home.root),
                "options": asdict(context.plan.options)}
        groups = _fit_groups(context.device, context.plan) if name == "fit" else [
            ("all", context.device.env)]
        return [r for group, env in groups
                for r in run_worker({**task, "group": group}, env, context.work_dir,
                                    context.log)]
    return run


def _run_suite(suite: ExternalSuite, contexts: Sequence[Context]) -> tuple[list[Result], dict]:
    start, results = time.perf_counter(), []
    try:
        for context in contexts:
            results += suite(context)
    except Exception as error:  # noqa: BLE001 - one suite failing must not lose the others
        return results, {"status": "failed", "reason": str(error)[-4000:],
                         "seconds": time.perf_counter() - start}
    return results, {"status": "done", "reason": "", "seconds": time.perf_counter() - start}


def _skip_reason(name: str, available: Mapping[str, ExternalSuite], no_model: str | None,
                 measured: Sequence[Device], records: Mapping[str, Any]) -> str | None:
    if name not in available:
        return (f"the {name} suite needs the gRPC server: run the `cohort` command of the "
                "full installation")
    if name in NEEDS_MODEL and no_model:
        return no_model
    if not measured:
        return "no requested device is available: " + "; ".join(
            f"{n} {r['status']} ({r.get('reason', '')})" for n, r in records.items())
    return None


def run_benchmark(options: Options, suites: Sequence[str], devices: Sequence[str], out: Path,
                  home: Home | None, external: Mapping[str, ExternalSuite], log: Log
                  ) -> dict[str, Any]:
    """Measure, then write OUT/bench.json, bench.md and PNGs; returns the document, checked
    against the schema (a mismatch is a bug, raised after the files are written)."""
    plan, started = make_plan(options), datetime.now(UTC)
    out.mkdir(parents=True, exist_ok=True)
    host = machine()
    work_dir = Path(tempfile.mkdtemp(prefix=".work-", dir=out))
    try:
        seen = probe(work_dir, log)
        records = device_records(seen, devices)
        measured = [Device(n, seen[n]["platform"], device_env(seen[n]["platform"]))
                    for n in devices if records[n]["status"] == "measured"]
        scratch, no_model = prepare_home(home, out / "home")
        available = {**{s: _domain_suite(s) for s in DOMAIN_SUITES}, **external}
        results, suite_records = [], {}
        for name in suites:
            reason = _skip_reason(name, available, no_model, measured, records)
            if reason is not None:
                suite_records[name] = {"status": "skipped", "reason": reason, "seconds": 0.0}
                continue
            contexts = [Context(d, plan, scratch or Home.resolve(out / "home"), work_dir, log)
                        for d in measured]
            found, suite_records[name] = _run_suite(available[name], contexts)
            results += found
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    config = {**asdict(plan), "suites": list(suites), "devices": list(devices),
              # a persistent compilation cache turns compile times into cache reads
              "compilation_cache_dir": os.environ.get("JAX_COMPILATION_CACHE_DIR")}
    document = {"schema": SCHEMA_ID, "created_at": started.isoformat(), "quick": options.quick,
                "machine": {**host, "load_average_1m_at_end": load}, "versions": versions(),
                "devices": records, "config": config, "suites": suite_records,
                "results": results}
    (out / JSON_FILE).write_text(json.dumps(document, indent=1) + "\n")
    write_report(document, out)
    found_problems = problems(document)
    if found_problems:
        raise ValueError(f"{out / JSON_FILE} does not match the schema: {found_problems[:10]}")
    return document
