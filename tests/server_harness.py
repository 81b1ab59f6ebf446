"""Shared helpers for the in-process gRPC tests: a real server on port 0, real stubs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from cohort import versions
from cohort.home import Home
from cohort.refit import RefitWorker
from cohort.v1 import cohort_service_pb2 as pb
from server.app import create_server
from server.client import CohortClient, ErrorDetails, error_details
from server.settings import Settings


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(home=Home.resolve(tmp_path / "home"), address="127.0.0.1:0", **overrides)


@contextmanager
def serving(settings: Settings, health: Any = None, refits: RefitWorker | None = None
            ) -> Iterator[int]:
    """A started server for the duration of the block; yields its port."""
    server, port = create_server(settings, health, refits)
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
