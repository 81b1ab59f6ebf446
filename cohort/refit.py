"""Refits as background operations: one at a time, durable, watchable (DESIGN §5, §7, §9).

    worker = RefitWorker(home, config, gate, on_promoted=serving_model.swap_to)
    operation = worker.start(RefitRequest(request_id="r-1"))  # returns at once, QUEUED
    for state in worker.watch(operation.id): ...              # every change until done

One job at a time:
- a request id seen before returns the operation it started or joined, in any state (so a
  client may retry StartRefit freely);
- while this worker runs a refit, any other request joins it: the caller gets the running
  operation, and its own parameters are not used;
- while another fit holds the home's fit lock (a refit in another process, `cohort fit`,
  the server's first fit), StartRefit is a Conflict naming it.

A refit fits the store's snapshot (latest, or the requested ledger position), warm-started
from the serving version when that has warm-start state, and writes a READY or FAILED
version atomically (fit_to_version). Only a READY version is promoted, and only when the
request allows it: `on_promoted` (the application loads, warms and serves it) runs first,
then the worker points the alias at it (idempotent if on_promoted did). A failed gate ends
the operation FAILED (reason GATE_FAILED) with the diagnostics and the FAILED version's id;
the alias is left alone.

Where the work runs: a worker thread owns the operation and relays the progress of a fit
process (cohort/refit_process.py explains why the fit is not a thread). The fit process dies
with the server; an operation left unfinished by a dead server is marked interrupted at the
next start (cohort/operations.py), and nothing half-written is ever loadable.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from cohort import operations, refit_process, warmstart
from cohort.diagnostics import Gate
from cohort.errors import (
    CohortError,
    CorruptArtifact,
    GateFailed,
    Interrupted,
    InvalidArgument,
    Violation,
)
from cohort.fit import DEFAULT_GATE, FitConfig, Progress, check_config
from cohort.home import Home
from cohort.operations import Operation, Phase, Problem
from cohort.refit_process import Job, Snapshot, Written
from cohort.store import check_request_id
from cohort.versions import load_version, serving_version, set_serving

DEFAULT_CONFIG = FitConfig()  # the fit defaults: 4 chains x 1000 warm-up + 2000 draws
MAX_CHAINS = 64
MAX_ITERATIONS = 100_000  # per chain and phase: a bound on one request's memory and time
_SAMPLER_PHASES = {"warmup": Phase.WARMUP, "sampling": Phase.SAMPLING}
_SHUT_DOWN = "the server shut down during the refit, before it finished"
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefitRequest:
    """What a client asks for (field names as in StartRefitRequest); 0 / None = default."""

    request_id: str = ""
    ledger_position: int | None = None  # None = the latest
    warm_start: bool = True
    seed: int | None = None
    chain_count: int = 0
    warmup_count: int = 0  # applies to cold and warm starts alike
    draw_count: int = 0
    promote: bool = True


def fit_config(base: FitConfig, request: RefitRequest) -> FitConfig:
    """`base` with the request's overrides; InvalidArgument naming every bad request field."""
    problems = []
    if request.request_id:
        try:
            check_request_id(request.request_id)
        except InvalidArgument as error:
            problems += error.violations
    limits = {"chain_count": MAX_CHAINS, "warmup_count": MAX_ITERATIONS,
              "draw_count": MAX_ITERATIONS, "ledger_position": 2**63 - 1, "seed": 2**63 - 1}
    for name, high in limits.items():
        value = getattr(request, name)
        if value is not None and not 0 <= value <= high:
            problems.append(Violation(name, str(value), f"must be between 0 and {high}"))
    if problems:
        raise InvalidArgument(problems)
    return check_config(replace(
        base, num_chains=request.chain_count or base.num_chains,
        num_warmup=request.warmup_count or base.num_warmup,
        warm_start_warmup=request.warmup_count or base.warm_start_warmup,
        num_samples=request.draw_count or base.num_samples,
        seed=base.seed if request.seed is None else request.seed))


class RefitWorker:
    """Runs refits of one home, one at a time, each in a fit process watched by a thread.

    `config` and `gate` are the defaults every refit uses (a request may change the chain,
    iteration and seed settings); `on_promoted(version_id)` runs when a refit promotes, just
    before the worker moves the alias.
    """

    def __init__(self, home: Home, config: FitConfig = DEFAULT_CONFIG, gate: Gate = DEFAULT_GATE,
                 on_promoted: Callable[[str], None] | None = None, poll_seconds: float = 1.0):
        self._home = home
        self._dir = operations.open_dir(home.operations_dir)
        self._config = check_config(config)
        self._gate = gate
        self._on_promoted = on_promoted
        self._poll_seconds = poll_seconds  # how often watchers re-check foreign operations
        self._changed = threading.Condition()  # guards everything below; notified per change
        self._history: dict[str, list[Operation]] = {}  # this worker's operations, every state
        self._running: str | None = None
        self._thread: threading.Thread | None = None
        self._child: subprocess.Popen[str] | None = None
        self._stopping = threading.Event()
        self._lock = operations.FitLock(self._dir)
        if self._lock.acquire():  # else another process is refitting: its records are live
            try:
                operations.interrupt_unfinished(self._dir)
            finally:
                self._lock.release()

    def start(self, request: RefitRequest) -> Operation:
        """The operation for `request` (see the module doc for joining), at once."""
        config = fit_config(self._config, request)
        with self._changed:
            if request.request_id and (known := self._find(request.request_id)) is not None:
                return known
            if self._running is not None:
                return self._join(self._running, request.request_id)
            if not self._lock.acquire():
                raise operations.fit_running(self._dir)
            try:
                operations.interrupt_unfinished(self._dir)
                for states in self._history.values():
                    del states[:-1]  # earlier operations are done: keep their final state
                operation = operations.new_operation(request.request_id)
                self._publish(operation)
            except BaseException:
                self._lock.release()
                raise
            self._running = operation.id
            self._thread = threading.Thread(target=self._run, args=(operation.id, request, config),
                                            name=f"refit-{operation.id}", daemon=True)
            self._thread.start()
            return operation

    def get(self, operation_id: str) -> Operation:
        """The latest state; NotFound for an unknown id, InvalidArgument for a malformed one."""
        operations.check_id(operation_id)
        with self._changed:
            history = self._history.get(operation_id)
            return history[-1] if history else operations.load(self._dir, operation_id)

    def watch(self, operation_id: str, active: Callable[[], bool] = lambda: True
              ) -> Iterator[Operation]:
        """The state now, then every later state in order until one is done. Ends early,
        without raising, once `active()` is false: checked on every change, on `wake()`
        and every `poll_seconds` (which is also how records of other processes are seen)."""
        state = self.get(operation_id)
        yield state
        while not state.done:
            with self._changed:
                newer = self._after(operation_id, state.revision)
                while not newer and active():
                    self._changed.wait(self._poll_seconds)
                    newer = self._after(operation_id, state.revision)
            if not newer:
                return
            yield from newer
            state = newer[-1]

    def wake(self) -> None:
        """Make watchers re-check `active()` now (e.g. their call was cancelled)."""
        with self._changed:
            self._changed.notify_all()

    def close(self, timeout_seconds: float | None = None) -> None:
        """Stop a running refit (its fit process is terminated; the operation ends FAILED,
        INTERRUPTED) and wait up to `timeout_seconds` for the operation to record that."""
        with self._changed:
            self._stopping.set()
            if self._child is not None:
                self._child.terminate()
        if self._thread is not None:
            self._thread.join(timeout_seconds)

    def _find(self, request_id: str) -> Operation | None:
        for operation in operations.list_operations(self._dir):
            if request_id in operation.request_ids:
                return self.get(operation.id)
        return None

    def _join(self, operation_id: str, request_id: str) -> Operation:
        state = self._history[operation_id][-1]
        if not request_id or request_id in state.request_ids:
            return state
        return self._update(operation_id, request_ids=(*state.request_ids, request_id))

    def _after(self, operation_id: str, revision: int) -> list[Operation]:
        history = self._history.get(operation_id)
        if history is None:  # another process's (or a previous run's) operation
            latest = operations.load(self._dir, operation_id)
            return [latest] if latest.revision > revision else []
        return [state for state in history if state.revision > revision]

    def _publish(self, operation: Operation) -> None:
        """Persist a new state, then show it to readers and watchers."""
        operations.save(self._dir, operation)
        self._history.setdefault(operation.id, []).append(operation)
        self._changed.notify_all()

    def _update(self, operation_id: str, **changes: Any) -> Operation:
        with self._changed:
            previous = self._history[operation_id][-1]
            state = replace(previous, **changes, revision=previous.revision + 1,
                            updated_at=operations.now_iso())
            self._publish(state)
            return state

    def _run(self, operation_id: str, request: RefitRequest, config: FitConfig) -> None:
        try:
            self._refit(operation_id, request, config)
        except CohortError as error:
            self._update(operation_id, phase=Phase.FAILED, eta_seconds=None,
                         error=Problem.of(error))
        except Exception:  # noqa: BLE001 - the operation must end, and say so
            _LOG.exception("refit %s failed", operation_id)
            self._update(operation_id, phase=Phase.FAILED, eta_seconds=None,
                         error=Problem("INTERNAL", "internal error; see the server log"))
        finally:
            with self._changed:
                self._running = None
                self._lock.release()

    def _refit(self, operation_id: str, request: RefitRequest, config: FitConfig) -> None:
        self._update(operation_id, phase=Phase.SNAPSHOT)
        init_from = self._warm_source() if request.warm_start else None
        written = self._fit(operation_id, Job(str(self._home.root), request.ledger_position,
                                              init_from, config, self._gate))
        self._update(operation_id, diagnostics=written.diagnostics,
                     version_id=written.version_id, fit_wall_seconds=written.wall_seconds)
        if not written.diagnostics.passed:
            raise GateFailed(f"version {written.version_id} failed the diagnostics gate "
                             f"({'; '.join(written.diagnostics.reasons)}); it is kept as FAILED "
                             f"and the serving version is unchanged")
        if request.promote:
            if self._on_promoted is not None:
                self._on_promoted(written.version_id)
            set_serving(self._home.models_dir, written.version_id)
            self._update(operation_id, promoted=True)
        self._update(operation_id, phase=Phase.SUCCEEDED)

    def _fit(self, operation_id: str, job: Job) -> Written:
        """Run `job` in a fit process, relaying its events to the operation."""
        with self._changed:
            if self._stopping.is_set():
                raise Interrupted(_SHUT_DOWN)
            self._child = child = refit_process.spawn(job)
        written = None
        try:
            with child:  # leaving closes stdin (the child exits if it has not) and reaps it
                for event in refit_process.events(child):
                    if isinstance(event, Snapshot):
                        self._update(operation_id, phase=Phase.COMPILING,
                                     snapshot_id=event.snapshot_id)
                    elif isinstance(event, Progress):
                        self._progress(operation_id, event)
                    elif isinstance(event, Written):
                        written = event
                    else:
                        raise _Reported(event)
        finally:
            with self._changed:
                self._child = None
        if written is None:
            if self._stopping.is_set():
                raise Interrupted(_SHUT_DOWN)
            _LOG.error("refit %s: the fit process ended without a result (exit status %s)",
                       operation_id, child.returncode)
            raise _Reported(Problem("INTERNAL", "the fit process ended without a result"))
        return written

    def _progress(self, operation_id: str, progress: Progress) -> None:
        self._update(operation_id, phase=_SAMPLER_PHASES[progress.phase],
                     iteration=progress.iteration, total=progress.total,
                     eta_seconds=progress.eta_seconds)
        if progress.phase == "sampling" and progress.iteration == progress.total:
            self._update(operation_id, phase=Phase.FINALIZING, iteration=0, total=0,
                         eta_seconds=None)

    def _warm_source(self) -> str | None:
        """The serving version when it carries warm-start state; else None (a cold start)."""
        try:
            serving = serving_version(self._home.models_dir)
            if serving is None:
                return None
            files = load_version(self._home.models_dir, serving).manifest["files"]
        except CorruptArtifact as error:
            _LOG.warning("cold start: the serving version is unusable (%s)", error)
            return None
        return serving if warmstart.FILE in files else None


class _Reported(CohortError):
    """An error the fit process reported, passed on with its own reason and message."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.reason = problem.reason
