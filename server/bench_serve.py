"""The serve and startup suites of `cohort bench`: a real `cohort serve` process on
loopback per device, measured from this process through the real client stubs.

serve: PredictCohort latency (p50 / p99) at several sizes next to an empty RPC (health
Check: pure transport cost), then requests/s with 1, 4, 16... concurrent clients for a
bounded time. startup: process start → health SERVING with an existing version, with the
persistent compilation cache off and on (populated by an untimed first start).

The load generator shares the machine with the server: on a 2-core CPU the client
threads take CPU time the server would otherwise use, so rps is a lower bound.
"""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import NamedTuple

import grpc
import numpy as np
from grpc_health.v1 import health_pb2

from cohort.bench import Context, Result
from cohort.bench.predict import bench_spec
from cohort.bench.results import Run, describe, result
from cohort.cli import bench
from cohort.v1 import cohort_service_pb2 as pb
from cohort.versions import load_version, serving_version
from server.answers import spec_message
from server.client import CohortClient

HEALTH_POLL_S = 0.05
WARMUP_CALLS = 5  # untimed calls per size before the timed ones (connection, caches)
STOP_TIMEOUT_S = 30.0


class ServerFailed(Exception):
    pass


class Running(NamedTuple):
    address: str
    listening_s: float  # process start → first health answer
    ready_s: float  # process start → SERVING


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_serving(address: str, process: subprocess.Popen, started: float, timeout_s: float,
                  log_path: Path) -> Running:
    listening = None
    with CohortClient(address, timeout_seconds=1.0) as client:
        while time.perf_counter() - started < timeout_s:
            if process.poll() is not None:
                raise ServerFailed(f"the server exited with {process.returncode}: "
                                   + log_path.read_text()[-3000:])
            try:
                status = client.health()
            except grpc.RpcError:
                time.sleep(HEALTH_POLL_S)
                continue
            listening = listening or time.perf_counter() - started
            if status == health_pb2.HealthCheckResponse.SERVING:
                return Running(address, listening, time.perf_counter() - started)
            time.sleep(HEALTH_POLL_S)
    raise ServerFailed(f"not SERVING after {timeout_s:.0f} s: " + log_path.read_text()[-3000:])


@contextmanager
def server_process(context: Context, env: Mapping[str, str], name: str) -> Iterator[Running]:
    """`cohort serve` (as `python -m server`) on a free loopback port of this device, until
    the block ends (SIGTERM, then a kill if it does not drain in time)."""
    address = f"127.0.0.1:{_free_port()}"
    warm = context.plan.serve.warm_draw_counts
    command = [sys.executable, "-m", "server", "--home", str(context.home.root),
               "--address", address,
               *(["--warm-draw-counts", ",".join(map(str, warm))] if warm else [])]
    log_path = context.work_dir / f"server-{context.device.name}-{name}.log"
    with log_path.open("w") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=dict(env), stdout=log_file,
                                   stderr=subprocess.STDOUT)
        try:
            yield _wait_serving(address, process, started, context.plan.serve.ready_timeout_s,
                                log_path)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _request(context: Context, patients: int, draws: int) -> pb.PredictCohortRequest:
    """One spec for the version's first product and disease (as the predict suite)."""
    models_dir = context.home.models_dir
    manifest = load_version(models_dir, serving_version(models_dir) or "").manifest
    spec = bench_spec(manifest["products"][0], manifest["diseases"][0], patients, draws)
    return pb.PredictCohortRequest(specs=[spec_message(spec)])


def _latencies(call: Callable[[], object], count: int) -> list[float]:
    for _ in range(WARMUP_CALLS):
        call()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def _percentiles(ms: list[float]) -> Run:
    return {"p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
            "mean_ms": statistics.fmean(ms), "max_ms": max(ms), "requests": len(ms)}


def _throughput(address: str, request: pb.PredictCohortRequest, clients: int,
                duration_s: float) -> Run:
    """`clients` threads, each with its own channel, calling back to back for duration_s."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    barrier = threading.Barrier(clients + 1)

    def worker(i: int) -> None:
        with CohortClient(address, timeout_seconds=60.0) as client:
            client.stub.PredictCohort(request, timeout=60.0)  # connect before the clock runs
            barrier.wait()
            end = time.perf_counter() + duration_s
            while (start := time.perf_counter()) < end:
                try:
                    client.stub.PredictCohort(request, timeout=60.0)
                    latencies[i].append((time.perf_counter() - start) * 1e3)
                except grpc.RpcError:
                    errors[i] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    done = [ms for per_client in latencies for ms in per_client]
    return {"rps": len(done) / elapsed, "errors": sum(errors),
            **(_percentiles(done) if done else {})}


def serve_suite(context: Context) -> list[Result]:
    plan, device, log = context.plan.serve, context.device.name, context.log
    empty_runs: list[Run] = []
    sized: dict[tuple[int, int], list[Run]] = {size: [] for size in plan.sizes}
    loads: dict[int, list[Run]] = {n: [] for n in plan.clients}
    with server_process(context, context.device.env, "serve") as server, CohortClient(
            server.address, timeout_seconds=60.0) as client:
        requests = {size: _request(context, *size) for size in {*plan.sizes, plan.load_size}}
        for _ in range(context.plan.repeats):
            empty_runs.append(_percentiles(_latencies(client.health, plan.requests)))
            for size, runs in sized.items():
                call = partial(client.stub.PredictCohort, requests[size], timeout=60.0)
                runs.append(_percentiles(_latencies(call, plan.requests)))
                runs[-1]["overhead_p50_ms"] = runs[-1]["p50_ms"] - empty_runs[-1]["p50_ms"]
            for clients, runs in loads.items():
                runs.append(_throughput(server.address, requests[plan.load_size], clients,
                                        plan.duration_s))
    results = [result("serve", device, {"measure": "latency", "rpc": "Health.Check",
                                        "patients": 0, "draws": 0, "patient_draws": 1},
                      empty_runs)]
    for (patients, draws), runs in sized.items():
        results.append(result("serve", device, {
            "measure": "latency", "rpc": "PredictCohort", "patients": patients, "draws": draws,
            "patient_draws": patients * draws}, runs))
    patients, draws = plan.load_size
    for clients, runs in loads.items():
        results.append(result("serve", device, {
            "measure": "throughput", "rpc": "PredictCohort", "patients": patients,
            "draws": draws, "clients": clients, "duration_s": plan.duration_s}, runs))
    for r in results:
        shown = {k: f"{v['median']:.3g}" for k, v in r["summary"].items()
                 if k in ("p50_ms", "p99_ms", "rps")}
        log(f"serve {device} {describe(r['case'])}: {shown}")
    return results


def startup_suite(context: Context) -> list[Result]:
    """Start → SERVING, cache off (JAX_ENABLE_COMPILATION_CACHE=false) and on (a cache
    directory of this run, filled by one untimed start first)."""
    env, device = context.device.env, context.device.name
    cache_dir = context.work_dir / f"compile-cache-{device}"
    cases = {"off": {**env, "JAX_ENABLE_COMPILATION_CACHE": "false"},
             "on": {**env, "JAX_COMPILATION_CACHE_DIR": str(cache_dir)}}
    results = []
    for cache, case_env in cases.items():
        runs: list[Run] = []
        if cache == "on":
            with server_process(context, case_env, "startup-fill") as filled:
                first = filled.ready_s
        for repeat in range(context.plan.repeats):
            with server_process(context, case_env, f"startup-{cache}-{repeat}") as server:
                runs.append({"ready_s": server.ready_s, "listening_s": server.listening_s})
        if cache == "on":
            runs[0]["filling_start_s"] = first
        results.append(result("startup", device, {"cache": cache}, runs))
        context.log(f"startup {device} cache={cache}: ready "
                    f"{results[-1]['summary']['ready_s']['median']:.1f} s")
    return results


SUITES = {"serve": serve_suite, "startup": startup_suite}


def register_bench(commands: argparse._SubParsersAction) -> None:
    """`cohort bench` with every suite: the domain's plus serve and startup."""
    bench.register(commands, external=SUITES)
