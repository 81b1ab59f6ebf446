"""Operation records and the refit worker's bookkeeping, without fitting anything: durable
atomic records, crash recovery through the refit lock, request validation, watching, and
the fit process's events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from cohort import operations, refit_process
from cohort.diagnostics import Diagnostics, Gate
from cohort.errors import Conflict, CorruptArtifact, InvalidArgument, NotFound
from cohort.fit import FitConfig, Progress
from cohort.home import Home
from cohort.operations import Operation, Phase, Problem
from cohort.refit import RefitRequest, RefitWorker, fit_config


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home.resolve(tmp_path / "home")


def _diagnostics() -> Diagnostics:
    return Diagnostics(max_rhat=1.004, min_ess_bulk=512.0, min_ess_tail=float("nan"),
                       divergences=2, num_chains=4, num_draws=1000, worst=(), excluded=(),
                       constant_elements=3, gate=Gate(), passed=False,
                       reasons=("2 divergences after warm-up > 0",))


def _running(directory: Path, request_id: str = "r-1") -> Operation:
    """A record as a refit in SAMPLING leaves it (what a killed process leaves behind)."""
    operation = replace(operations.new_operation(request_id), phase=Phase.SAMPLING,
                        iteration=50, total=100, eta_seconds=12.5, revision=6)
    operations.save(directory, operation)
    return operation


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_record_round_trip_is_atomic(tmp_path: Path) -> None:
    directory = operations.open_dir(tmp_path / "ops")
    finished = replace(operations.new_operation("r-1"), phase=Phase.FAILED, revision=9,
                       diagnostics=_diagnostics(), version_id="v20260101T120000Z-0123abcd",
                       fit_wall_seconds=41.5, error=Problem("GATE_FAILED", "gate failed"))
    operations.save(directory, finished)
    loaded = operations.load(directory, finished.id)
    # NaN diagnostics are stored as JSON null and come back as NaN: compare as dicts
    assert loaded.diagnostics.to_dict() == finished.diagnostics.to_dict()
    assert replace(loaded, diagnostics=None) == replace(finished, diagnostics=None)
    assert loaded.done and loaded.request_ids == ("r-1",)
    assert [p.name for p in directory.iterdir()] == [f"{finished.id}.json"]


def test_ids_are_checked_before_touching_the_disk(tmp_path: Path) -> None:
    directory = operations.open_dir(tmp_path / "ops")
    for bad in ("", "../models/SERVING", "op-1"):
        with pytest.raises(InvalidArgument) as caught:
            operations.load(directory, bad)
        assert [v.field for v in caught.value.violations] == ["operation_id"]
    with pytest.raises(NotFound):
        operations.load(directory, "op-20260101T120000Z-00000000")
    broken = operations.new_operation("")
    (directory / f"{broken.id}.json").write_text("{half a rec")
    with pytest.raises(CorruptArtifact):
        operations.load(directory, broken.id)


def test_crash_leftovers_are_cleaned(tmp_path: Path) -> None:
    directory = tmp_path / "ops"
    directory.mkdir()
    (directory / ".tmp-abc.json").write_text("{")
    operations.open_dir(directory)
    assert list(directory.iterdir()) == []


def test_start_marks_a_dead_process_refit_interrupted(home: Home) -> None:
    directory = operations.open_dir(home.operations_dir)
    orphan = _running(directory)
    done = replace(operations.new_operation("r-0"), phase=Phase.SUCCEEDED, revision=3)
    operations.save(directory, done)
    worker = RefitWorker(home)  # nobody holds the refit lock: the orphan's process is gone
    failed = worker.get(orphan.id)
    assert failed.phase is Phase.FAILED and failed.done and failed.revision == orphan.revision + 1
    assert failed.error.reason == "INTERRUPTED" and "stopped before it finished" in (
        failed.error.message)
    assert (failed.iteration, failed.total, failed.eta_seconds) == (50, 100, None)
    assert worker.get(done.id) == done


def test_a_live_refit_elsewhere_is_left_alone_and_blocks_a_second(home: Home) -> None:
    directory = operations.open_dir(home.operations_dir)
    elsewhere = operations.FitLock(directory)  # another descriptor: flock sees another owner
    assert elsewhere.acquire()
    try:
        live = _running(directory)
        worker = RefitWorker(home)
        assert worker.get(live.id) == live
        with pytest.raises(Conflict, match=live.id):
            worker.start(RefitRequest(request_id="r-2"))
        assert worker.start(RefitRequest(request_id="r-1")) == live  # a retry is answered
    finally:
        elsewhere.release()
    assert RefitWorker(home).get(live.id).phase is Phase.FAILED  # its owner is gone now


def test_the_fit_lock_refuses_or_waits_and_clears_records_of_dead_refits(home: Home) -> None:
    """`fit_lock` (`cohort fit`, a server's first fit): Conflict naming the live refit, or
    with `on_wait` a wait until it ends; once held, a record no live process owns is FAILED."""
    directory = operations.open_dir(home.operations_dir)
    elsewhere = operations.FitLock(directory)
    assert elsewhere.acquire()
    live = _running(directory)
    with pytest.raises(Conflict, match=live.id), operations.fit_lock(directory):
        pass
    seen: list[Conflict] = []
    threading.Timer(0.2, elsewhere.release).start()  # the refit's process ends
    with operations.fit_lock(directory, on_wait=seen.append, poll_seconds=0.02):
        assert [live.id in str(busy) for busy in seen] == [True]
        assert operations.load(directory, live.id).phase is Phase.FAILED
    assert elsewhere.acquire()  # released on the way out
    elsewhere.release()


def test_watch_follows_another_process_and_stops_when_inactive(home: Home) -> None:
    directory = operations.open_dir(home.operations_dir)
    elsewhere = operations.FitLock(directory)
    assert elsewhere.acquire()
    try:
        live = _running(directory)
        worker = RefitWorker(home, poll_seconds=0.05)
        seen: list[Operation] = []
        stop = threading.Event()
        watcher = threading.Thread(
            target=lambda: seen.extend(worker.watch(live.id, lambda: not stop.is_set())))
        watcher.start()
        _wait_for(lambda: len(seen) == 1)
        later = replace(live, iteration=100, revision=live.revision + 1)
        operations.save(directory, later)  # the other process's next progress event
        _wait_for(lambda: len(seen) == 2)
        stop.set()
        worker.wake()
        watcher.join(5)
        assert not watcher.is_alive() and seen == [live, later]
    finally:
        elsewhere.release()


def test_request_overrides_and_every_bad_field_at_once() -> None:
    base = FitConfig(num_chains=4, num_warmup=1000, num_samples=1000, seed=3)
    assert fit_config(base, RefitRequest()) == base
    chosen = fit_config(base, RefitRequest(chain_count=2, warmup_count=150, draw_count=80,
                                           seed=0))
    assert (chosen.num_chains, chosen.num_warmup, chosen.warm_start_warmup,
            chosen.num_samples, chosen.seed) == (2, 150, 150, 80, 0)
    with pytest.raises(InvalidArgument) as caught:
        fit_config(base, RefitRequest(request_id="x" * 200, chain_count=-1, draw_count=10**6,
                                      ledger_position=-2))
    assert sorted(v.field for v in caught.value.violations) == [
        "chain_count", "draw_count", "ledger_position", "request_id"]


def test_bad_request_records_nothing(home: Home) -> None:
    worker = RefitWorker(home)
    with pytest.raises(InvalidArgument):
        worker.start(RefitRequest(chain_count=-1))
    assert operations.list_operations(home.operations_dir) == []


def test_fit_process_events_and_job_survive_the_pipe() -> None:
    sent = [refit_process.Snapshot("ab" * 32),
            Progress("warmup", 50, 200, 12.5), Progress("sampling", 100, 100, None),
            refit_process.Written("v20260101T120000Z-0123abcd", _diagnostics(), 41.5),
            Problem("NOT_FOUND", "ledger position 9 not reached")]
    received = [refit_process.decode(refit_process.encode(event)) for event in sent]
    assert [type(e) for e in received] == [type(e) for e in sent]
    written = received[3]
    assert written.diagnostics.to_dict() == sent[3].diagnostics.to_dict()  # NaN inside
    assert received[:3] + received[4:] == sent[:3] + sent[4:]
    job = refit_process.Job("/h", None, "v20260101T120000Z-0123abcd",
                            FitConfig(num_chains=2), Gate(max_rhat=float("inf")))
    assert refit_process.Job.from_json(job.to_json()) == job
