"""Shared helpers for the in-process gRPC tests: a real server on port 0, real stubs."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import jax
from grpc_health.v1 import health_pb2

from cohort import versions
from cohort.home import Home
from cohort.refit import RefitWorker
from cohort.v1 import cohort_service_pb2 as pb
from server.app import create_server
from server.client import CohortClient, ErrorDetails, error_details
from server.serving import ServingModel, WarmPlan
from server.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# The request sizes the query tests use, compiled before serving: 64 and 1000 draws, and
# one stream shape (64 draws x 10 patients). Other sizes would compile mid-test.
TEST_WARM = WarmPlan(draw_counts=(64, 1024), stream_shapes=((64, 10),))


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(home=Home.resolve(tmp_path / "home"), address="127.0.0.1:0", **overrides)


@contextmanager
def serving(settings: Settings, health: Any = None, refits: RefitWorker | None = None,
            model: ServingModel | None = None) -> Iterator[int]:
    """A started server for the duration of the block; yields its port."""
    server, port = create_server(settings, health, refits, model)
    server.start()
    try:
        yield port
    finally:
        server.stop(None)


@contextmanager
def client_for(tmp_path: Path, **overrides: Any) -> Iterator[CohortClient]:
    settings = settings_for(tmp_path, **overrides)
    with serving(settings) as port, CohortClient(f"127.0.0.1:{port}", timeout_seconds=20) as c:
        yield c


def failure(call: Any, *args: Any, **kwargs: Any) -> ErrorDetails:
    """Run a call that must fail; its unpacked status (never UNKNOWN)."""
    try:
        result = call(*args, **kwargs)
        if hasattr(result, "__next__"):
            list(result)
    except grpc.RpcError as error:
        details = error_details(error)
        assert details.code is not grpc.StatusCode.UNKNOWN, details
        return details
    raise AssertionError(f"{call} succeeded")


def arm(arm_id: str, **cells: Any) -> pb.ArmRow:
    """A valid arm row; `cells` override or add columns."""
    base: dict[str, Any] = dict(trial="TEST-1", product="testcel", target="CD19", costim="4-1BB",
                                cell_source="autologous", cell_type="CAR-T", disease="LBCL",
                                flu_mg_m2_day=30.0, flu_days=3, cy_mg_m2_day=500.0, cy_days=3,
                                n_treated=20, n_orr=12, n_cr=8, n_crs_any=10, n_crs_g3=2)
    return pb.ArmRow(arm_id=arm_id, **{**base, **cells})


def fake_version(models_dir: Path, created_at: datetime, status: str = versions.READY,
                 **manifest: Any) -> versions.Version:
    """A checksummed version directory without a real posterior (loads verify bytes only)."""
    fields = {"status": status, "snapshot_hash": "ab" * 32, "seed": 7,
              "fit_config": {"num_chains": 4, "num_warmup": 500, "num_samples": 500},
              "diagnostics": {"max_rhat": 1.003, "min_ess_bulk": 812.5, "min_ess_tail": 640.0,
                              "divergences": 0, "passed": status == versions.READY},
              "timings": {"wall_s": 42.0}, "code_version": {"cohort": "0.1.0", "git_commit": None},
              **manifest}
    body = json.dumps({"created": created_at.isoformat()}).encode()
    return versions.write_version(models_dir, {versions.POSTERIOR: lambda p: p.write_bytes(body)},
                                  fields, created_at)


def at(day: int) -> datetime:
    return datetime(2026, 1, day, 12, 0, 0, tzinfo=UTC)


def loaded_model(home: Home, version_id: str, **options: Any) -> ServingModel:
    """A ServingModel of `home` serving `version_id`, warmed for the test sizes."""
    model = ServingModel(home, options.pop("warm", TEST_WARM), **options)
    model.swap_to(version_id)
    return model


def derived_version(models_dir: Path, version: versions.Version, created_at: datetime,
                    reverse: bool = True, status: str = versions.READY) -> versions.Version:
    """A new version with `version`'s files and manifest and the given status; `reverse`
    reverses the order of its posterior draws, so that its answers differ while every
    array keeps its shape (no recompilation)."""
    posterior = version.posterior().isel(draw=slice(None, None, -1 if reverse else 1))
    writers = {name: (lambda path, name=name: path.write_bytes(version.file(name).read_bytes()))
               for name in version.manifest["files"] if name != versions.POSTERIOR}
    writers[versions.POSTERIOR] = lambda path: posterior.to_netcdf(str(path))
    kept = {"format", "version_id", "created_at", "files", "manifest_sha256"}
    fields = {k: v for k, v in version.manifest.items() if k not in kept} | {"status": status}
    return versions.write_version(models_dir, writers, fields, created_at)


def server_process(env: dict[str, str], *argv: str) -> subprocess.Popen:
    """`cohort serve` as users run it, logging to a file the test reads as it grows."""
    with open(Path(env["COHORT_HOME"]).parent / "serve.log", "w") as log:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """A clean environment; this checkout's code, the session's compile cache."""
    return {"PATH": "/usr/bin:/bin", "COHORT_HOME": str(home), "PYTHONPATH": str(ROOT),
            "COHORT_ADDRESS": "127.0.0.1:0",
            "JAX_COMPILATION_CACHE_DIR": str(jax.config.jax_compilation_cache_dir), **extra}


def wait_logged(process: subprocess.Popen, home: Path, pattern: str,
                timeout_s: float) -> re.Match:
    """The first match of `pattern` in the server's log (fails fast if the process exits)."""
    log, deadline = home.parent / "serve.log", time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        if found := re.search(pattern, log.read_text()):
            return found
        time.sleep(0.5)
    raise AssertionError(f"no {pattern!r} in the log after {timeout_s} s:\n{log.read_text()}")


def wait_listening(process: subprocess.Popen, home: Path, timeout_s: float) -> str:
    """The address the server logged once it listens."""
    return wait_logged(process, home, r"listening on (\S+:\d+)", timeout_s).group(1)


def wait_serving(process: subprocess.Popen, home: Path, timeout_s: float) -> str:
    """The address once health says SERVING (fails fast if the process exits)."""
    deadline = time.monotonic() + timeout_s
    address = wait_listening(process, home, timeout_s)
    with CohortClient(address, timeout_seconds=5) as client:
        while time.monotonic() < deadline:
            assert process.poll() is None, (home.parent / "serve.log").read_text()
            if client.health() == health_pb2.HealthCheckResponse.SERVING:
                return address
            time.sleep(1.0)
    raise AssertionError(f"not SERVING after {timeout_s} s:\n"
                         f"{(home.parent / 'serve.log').read_text()}")
