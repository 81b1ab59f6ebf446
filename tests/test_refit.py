"""Refit operations end to end over a real channel (DESIGN §7, §9).

Three real refits in all, each shared by the tests that read it: one that passes the (tiny)
gate and is promoted, one that fails a strict gate, and one in a server process that is
SIGKILLed mid-sampling (plus one stopped by a shutdown before it compiles anything).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import grpc
import jax
import pytest
from google.rpc import error_details_pb2, status_pb2

from cohort import operations, versions
from cohort.diagnostics import Gate
from cohort.errors import CorruptArtifact
from cohort.home import Home
from cohort.operations import Phase
from cohort.refit import RefitRequest, RefitWorker
from cohort.v1 import cohort_service_pb2 as pb
from cohort.versions import Version
from server.cli import main as cli_main
from server.client import CohortClient
from server.serving import WarmPlan
from tests.conftest import TINY_FIT, TINY_GATE
from tests.server_harness import failure, loaded_model, serving, settings_for

Code = grpc.StatusCode
STRICT_GATE = Gate(min_ess_bulk=1e9)  # no fit reaches it: forces a gate failure
PREDICT = pb.CohortSpec(product=pb.Product(name="tisagenlecleucel (tisa-cel, CTL019)"),
                        disease="LBCL", patient_count=20, draw_count=64)
WATCH_S = 900.0  # a bound, so that a stuck refit fails the test instead of hanging it


class Refit(NamedTuple):
    home: Home
    before: Version  # the version serving before the refit
    client: CohortClient
    started: list[pb.StartRefitResponse]
    watched: list[pb.Operation]
    address: str
    predicted_before: str = ""  # model_version of a prediction made before the refit


def _reason(error: status_pb2.Status) -> str:
    """The ErrorInfo reason an operation's error carries."""
    info = error_details_pb2.ErrorInfo()
    assert any(detail.Unpack(info) for detail in error.details), error
    return info.reason


def _copy(fitted_home: tuple[Home, Version], tmp_path_factory: pytest.TempPathFactory,
          name: str) -> Home:
    root = tmp_path_factory.mktemp(name) / "home"
    shutil.copytree(fitted_home[0].root, root)
    return Home.resolve(root)


@pytest.fixture(scope="module")
def promoted(fitted_home: tuple[Home, Version],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Refit]:
    """Four StartRefit calls at once, then the one operation watched until done."""
    home = _copy(fitted_home, tmp_path_factory, "refit-pass")
    model = loaded_model(home, fitted_home[1].id, warm=WarmPlan((PREDICT.draw_count,), ()))
    worker = RefitWorker(home, TINY_FIT, TINY_GATE, on_promoted=model.swap_to)
    settings = settings_for(home.root.parent)
    with serving(settings, refits=worker, model=model) as port, \
            CohortClient(f"127.0.0.1:{port}", timeout_seconds=60) as client:
        predicted = client.stub.PredictCohort(pb.PredictCohortRequest(specs=[PREDICT]))
        barrier = threading.Barrier(4)

        def start(index: int) -> pb.StartRefitResponse:
            barrier.wait()
            return client.start_refit(f"together-{index}")
        with ThreadPoolExecutor(4) as pool:
            started = list(pool.map(start, range(4)))
        watch = client.watch_operation(started[0].operation.operation_id, WATCH_S)
        yield Refit(home, fitted_home[1], client, started, [m.operation for m in watch],
                    f"127.0.0.1:{port}", predicted.model_version)
    worker.close(60)


@pytest.fixture(scope="module")
def gate_failed(fitted_home: tuple[Home, Version],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Refit]:
    home = _copy(fitted_home, tmp_path_factory, "refit-strict")
    worker = RefitWorker(home, TINY_FIT, STRICT_GATE)
    with serving(settings_for(home.root.parent), refits=worker) as port, \
            CohortClient(f"127.0.0.1:{port}", timeout_seconds=60) as client:
        started = client.start_refit("strict")
        watch = client.watch_operation(started.operation.operation_id, WATCH_S)
        yield Refit(home, fitted_home[1], client, [started], [m.operation for m in watch],
                    f"127.0.0.1:{port}")
    worker.close(60)


def test_concurrent_starts_make_one_job(promoted: Refit) -> None:
    ids = {s.operation.operation_id for s in promoted.started}
    assert len(ids) == 1
    assert all(s.model_version == promoted.before.id for s in promoted.started)
    # a retry after the fact is answered with the same, finished operation: no second job
    again = promoted.client.start_refit("together-3").operation
    assert again.operation_id in ids and again.done
    new = [v.id for v in versions.list_versions(promoted.home.models_dir)
           if v.id != promoted.before.id]
    assert new == [promoted.watched[-1].result_version_id]


def test_watch_streams_every_phase_until_done(promoted: Refit) -> None:
    watched = promoted.watched
    phases = [m.phase for m in watched]
    assert phases == sorted(phases), "phases only move forward"
    assert {pb.OPERATION_PHASE_COMPILING, pb.OPERATION_PHASE_WARMUP, pb.OPERATION_PHASE_SAMPLING,
            pb.OPERATION_PHASE_FINALIZING} <= set(phases)
    assert [m.done for m in watched] == [False] * (len(watched) - 1) + [True]
    for phase, total in ((pb.OPERATION_PHASE_WARMUP, TINY_FIT.warm_start_warmup),
                         (pb.OPERATION_PHASE_SAMPLING, TINY_FIT.num_samples)):
        steps = [m for m in watched if m.phase == phase]
        assert [m.iteration for m in steps] == list(range(TINY_FIT.chunk_size, total + 1,
                                                          TINY_FIT.chunk_size))
        assert {m.total_iteration_count for m in steps} == {total}
        assert all(m.HasField("eta_seconds") and m.eta_seconds >= 0 for m in steps)
    assert not watched[-1].HasField("eta_seconds")


def test_passing_refit_is_promoted_and_served(promoted: Refit) -> None:
    final, client = promoted.watched[-1], promoted.client
    assert final.phase == pb.OPERATION_PHASE_SUCCEEDED and final.promoted
    assert not final.HasField("error")
    assert final.diagnostics.gate_passed and final.diagnostics.fit_wall_seconds > 0
    assert final.snapshot_id == promoted.before.manifest["snapshot_hash"]
    assert client.list_models().model_version == final.result_version_id
    served = client.get_model().model
    assert (served.version_id, served.status) == (final.result_version_id, pb.MODEL_STATUS_READY)
    manifest = versions.load_version(promoted.home.models_dir, final.result_version_id).manifest
    assert manifest["warm_start"] == {"from": promoted.before.id, "used": True,
                                      "note": manifest["warm_start"]["note"]}
    assert client.get_operation(final.operation_id).operation == final  # as recorded
    # the engine was swapped too: answers now come from the new version
    assert promoted.predicted_before == promoted.before.id
    answer = client.stub.PredictCohort(pb.PredictCohortRequest(specs=[PREDICT]))
    assert answer.model_version == final.result_version_id


def test_failed_gate_keeps_the_served_version(gate_failed: Refit) -> None:
    final, client = gate_failed.watched[-1], gate_failed.client
    assert final.phase == pb.OPERATION_PHASE_FAILED and final.done and not final.promoted
    assert (final.error.code, _reason(final.error)) == (
        Code.FAILED_PRECONDITION.value[0], "GATE_FAILED")
    assert "min bulk ESS" in final.error.message and "serving version is unchanged" in (
        final.error.message)
    assert not final.diagnostics.gate_passed and 0 < final.diagnostics.min_ess_bulk < 1e9
    assert client.get_model(final.result_version_id).model.status == pb.MODEL_STATUS_FAILED
    assert client.list_models().model_version == gate_failed.before.id
    assert versions.serving_version(gate_failed.home.models_dir) == gate_failed.before.id
    refused = failure(client.set_serving_model, final.result_version_id)
    assert refused.code is Code.INVALID_ARGUMENT


def test_cli_refit_and_operation(promoted: Refit, gate_failed: Refit,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    final = promoted.watched[-1]
    # a repeated request id joins the finished job: nothing new starts
    assert cli_main(["client", "--address", promoted.address, "refit", "--request-id",
                     "together-1", "--watch"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{final.operation_id} succeeded") and "now serving" in out
    failed = gate_failed.watched[-1]
    assert cli_main(["client", "--address", gate_failed.address, "operation",
                     failed.operation_id, "--watch"]) == 3  # as `cohort fit` on a failed gate
    out = capsys.readouterr().out
    assert f"{failed.operation_id} failed" in out and "failed the diagnostics gate" in out
    assert cli_main(["client", "--address", promoted.address, "operation",
                     "op-20260101T120000Z-00000000"]) == 1
    assert "NOT_FOUND" in capsys.readouterr().err


# --- cheap checks: no fit ----------------------------------------------------------------

@pytest.fixture
def client(tmp_path: Path) -> Iterator[CohortClient]:
    settings = settings_for(tmp_path)
    worker = RefitWorker(settings.home)
    with serving(settings, refits=worker) as port, \
            CohortClient(f"127.0.0.1:{port}", timeout_seconds=20) as c:
        yield c


@pytest.mark.parametrize("operation_id, code", [
    ("op-20260101T120000Z-00000000", Code.NOT_FOUND),
    ("", Code.INVALID_ARGUMENT),
    ("../models/SERVING", Code.INVALID_ARGUMENT),
])
def test_get_and_watch_errors(client: CohortClient, operation_id: str, code: Code) -> None:
    for call in (client.get_operation, client.watch_operation):
        error = failure(call, operation_id)
        assert (error.code, error.reason) == (code, code.name)
        assert [f for f, _ in error.field_violations] == (
            ["operation_id"] if code is Code.INVALID_ARGUMENT else [])


def test_bad_refit_request_names_every_field(client: CohortClient) -> None:
    error = failure(client.start_refit, "r", chain_count=-1, draw_count=10**6,
                    ledger_position=-1)
    assert error.code is Code.INVALID_ARGUMENT
    assert sorted(f for f, _ in error.field_violations) == [
        "chain_count", "draw_count", "ledger_position"]


def test_refit_needs_a_writer(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, tokens={"reader-token-1": "reader"})
    with serving(settings) as port, CohortClient(f"127.0.0.1:{port}", "reader-token-1") as c:
        assert failure(c.start_refit, "r").code is Code.PERMISSION_DENIED
        assert failure(c.get_operation, "op-20260101T120000Z-00000000").code is Code.NOT_FOUND


def test_watch_honours_its_deadline(tmp_path: Path) -> None:
    """A watch of a refit that does not finish ends with DEADLINE_EXCEEDED, promptly."""
    settings = settings_for(tmp_path)
    worker = RefitWorker(settings.home)
    lock = operations.FitLock(settings.home.operations_dir)
    assert lock.acquire()  # as if another live process were running this refit
    try:
        running = operations.new_operation("elsewhere")
        operations.save(settings.home.operations_dir, running)
        with serving(settings, refits=worker) as port, \
                CohortClient(f"127.0.0.1:{port}") as c:
            stream = c.watch_operation(running.id, timeout_seconds=1.0)
            assert next(stream).operation.phase == pb.OPERATION_PHASE_QUEUED
            began = time.monotonic()
            assert failure(lambda: list(stream)).code is Code.DEADLINE_EXCEEDED
            assert time.monotonic() - began < 5
    finally:
        lock.release()


def test_shutdown_stops_a_running_refit(fitted_home: tuple[Home, Version],
                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    """close() (graceful shutdown) terminates the fit process; the operation says so."""
    home = _copy(fitted_home, tmp_path_factory, "refit-close")
    worker = RefitWorker(home, TINY_FIT, TINY_GATE)
    started = worker.start(RefitRequest(request_id="short-lived"))
    for state in worker.watch(started.id):
        if state.phase is Phase.COMPILING:  # the fit process is up and has its snapshot
            break
    assert _fit_processes(home)
    worker.close(60)
    final = worker.get(started.id)
    assert final.phase is Phase.FAILED and final.error.reason == "INTERRUPTED"
    assert "shut down" in final.error.message and not final.version_id
    assert operations.load(home.operations_dir, started.id) == final
    assert not _fit_processes(home)
    assert [v.id for v in versions.list_versions(home.models_dir)] == [fitted_home[1].id]


# --- SIGKILL of the server process mid-refit ---------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fit_processes(home: Home) -> list[str]:
    """Pids of live refit fit processes working on `home`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:  # exited meanwhile
            continue
        if "cohort.refit_process" in text and str(home.root) in text:
            found.append(cmdline.parent.name)
    return found


def _start_server(home: Home, log: Path) -> tuple[subprocess.Popen, CohortClient]:
    """`python -m server` on `home`, sharing this session's compile cache; waits until it
    answers."""
    port = _free_port()
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": jax.config.jax_compilation_cache_dir,
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5"}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "--home", str(home.root),
         "--address", f"127.0.0.1:{port}", "--warm-draw-counts", "64"],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    client = CohortClient(f"127.0.0.1:{port}", timeout_seconds=20)
    deadline = time.monotonic() + 180
    while True:
        try:
            client.list_models()
            return process, client
        except grpc.RpcError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"server did not start:\n{log.read_text()}") from None
            time.sleep(0.5)


def test_sigkill_mid_refit_leaves_the_last_good_version(
        fitted_home: tuple[Home, Version], tmp_path_factory: pytest.TempPathFactory) -> None:
    home = _copy(fitted_home, tmp_path_factory, "refit-kill")
    before = [v.id for v in versions.list_versions(home.models_dir)]
    log = home.root.parent / "server.log"
    process, client = _start_server(home, log)
    try:
        # a long sampling phase, so that the kill lands well before anything is written
        started = client.start_refit("doomed", chain_count=TINY_FIT.num_chains,
                                     warmup_count=150, draw_count=400, seed=1).operation
        watch = client.watch_operation(started.operation_id, WATCH_S)
        for message in watch:
            if message.operation.phase == pb.OPERATION_PHASE_SAMPLING:
                process.send_signal(signal.SIGKILL)
                break
            assert not message.operation.done, message.operation
        watch.cancel()
        assert process.wait(30) == -signal.SIGKILL
    finally:
        process.kill()
        client.close()

    # the fit process dies with its server instead of writing a version nobody records
    deadline = time.monotonic() + 60
    while _fit_processes(home) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _fit_processes(home)
    assert [v.id for v in versions.list_versions(home.models_dir)] == before
    for leftover in home.models_dir.glob(f"{versions.TEMP_PREFIX}*"):
        with pytest.raises(CorruptArtifact):
            versions.load_version(home.models_dir, leftover.name)

    process, client = _start_server(home, log)
    try:
        assert client.list_models().model_version == fitted_home[1].id
        assert client.get_model().model.status == pb.MODEL_STATUS_READY
        interrupted = client.get_operation(started.operation_id).operation
        assert interrupted.phase == pb.OPERATION_PHASE_FAILED and interrupted.done
        assert (interrupted.error.code, _reason(interrupted.error)) == (
            Code.ABORTED.value[0], "INTERRUPTED")
        assert not interrupted.result_version_id and not interrupted.promoted
        assert operations.load(home.operations_dir, started.operation_id).phase is Phase.FAILED
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
        client.close()
