"""Long-running operations (refits) as durable records (DESIGN §7, §9).

Layout under `home/operations/`:

    op-20260509T073525Z-1a2b3c4d.json   one operation, replaced atomically on every change
    .tmp-<random>.json                  a record being written; never read
    refit.lock                          flock held by the process running a fit that may
                                        promote: a refit, `cohort fit`, a first fit

A record is written to a temp file, fsynced, renamed over the old one and the directory
fsynced, so a reader sees the old or the new state, never half of one, and an operation
reads the same after a restart.

Liveness: the process running a refit holds an exclusive flock on `refit.lock` until the
operation is done. The kernel drops it when that process dies (SIGKILL included), so an
unfinished record found while the lock is free belongs to a dead process, and
`interrupt_unfinished` marks it FAILED (INTERRUPTED) rather than leaving it running forever.
A pid check would misfire: a restarted server in a container often gets the same pid.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cohort.diagnostics import Diagnostics
from cohort.durable import fsync
from cohort.errors import (
    CohortError,
    Conflict,
    CorruptArtifact,
    Interrupted,
    InvalidArgument,
    NotFound,
    Violation,
)

LOCK_FILE = "refit.lock"
_TEMP_PREFIX = ".tmp-"
_ID = re.compile(r"op-\d{8}T\d{6}Z-[0-9a-f]{8}")


class Phase(StrEnum):
    QUEUED = "queued"  # accepted, not started
    SNAPSHOT = "snapshot"  # taking the data snapshot
    COMPILING = "compiling"  # initialising and compiling the sampler
    WARMUP = "warmup"  # NUTS adaptation
    SAMPLING = "sampling"  # NUTS draws
    FINALIZING = "finalizing"  # diagnostics, writing the version, promotion
    SUCCEEDED = "succeeded"  # a READY version was written (and promoted when asked)
    FAILED = "failed"  # see `error`; a gate failure still names its FAILED version


@dataclass(frozen=True)
class Problem:
    """Why an operation failed: a CohortError reason (the transport maps it to a code)."""

    reason: str
    message: str

    @classmethod
    def of(cls, error: CohortError) -> Problem:
        return cls(error.reason, str(error))


@dataclass(frozen=True)
class Operation:
    id: str
    created_at: str  # ISO-8601 UTC
    updated_at: str
    request_ids: tuple[str, ...] = ()  # client request ids that started or joined it
    revision: int = 0  # +1 per change, so watchers can tell states apart
    phase: Phase = Phase.QUEUED
    iteration: int = 0  # iterations done in the current phase, per chain
    total: int = 0  # iterations of the current phase; 0 = not applicable
    eta_seconds: float | None = None  # until the sampler finishes; None = no estimate
    snapshot_id: str = ""
    diagnostics: Diagnostics | None = None
    fit_wall_seconds: float | None = None
    version_id: str = ""  # the version written (READY or FAILED); empty until then
    promoted: bool = False
    error: Problem | None = None

    @property
    def done(self) -> bool:
        return self.phase in (Phase.SUCCEEDED, Phase.FAILED)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["diagnostics"] = self.diagnostics.to_dict() if self.diagnostics else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Operation:
        return cls(**{
            **data, "request_ids": tuple(data["request_ids"]), "phase": Phase(data["phase"]),
            "diagnostics": data["diagnostics"] and Diagnostics.from_dict(data["diagnostics"]),
            "error": data["error"] and Problem(**data["error"])})


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def new_operation(request_id: str) -> Operation:
    """A QUEUED operation with a fresh id (ids sort by creation time)."""
    created = datetime.now(UTC)
    return Operation(f"op-{created:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}", created.isoformat(),
                     created.isoformat(), (request_id,) if request_id else ())


def check_id(operation_id: str) -> str:
    """The id when well formed (it becomes a file name), else InvalidArgument."""
    if not _ID.fullmatch(operation_id):
        rule = ("required (empty is not allowed)" if not operation_id
                else "must look like op-20260101T120000Z-1a2b3c4d")
        raise InvalidArgument([Violation("operation_id", operation_id, rule)])
    return operation_id


def open_dir(directory: Path) -> Path:
    """Create `directory` and delete temp records left by a crash mid-write."""
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob(f"{_TEMP_PREFIX}*"):
        leftover.unlink(missing_ok=True)
    return directory


def save(directory: Path, operation: Operation) -> None:
    temp = directory / f"{_TEMP_PREFIX}{uuid.uuid4().hex}.json"
    try:
        temp.write_text(json.dumps(operation.to_json(), indent=1, allow_nan=False))
        fsync(temp)
        os.replace(temp, directory / f"{operation.id}.json")
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync(directory)


def load(directory: Path, operation_id: str) -> Operation:
    """NotFound when no such operation; CorruptArtifact when its record is unreadable."""
    path = directory / f"{check_id(operation_id)}.json"
    try:
        return Operation.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        raise NotFound(f"operation {operation_id} not found") from None
    except (ValueError, KeyError, TypeError) as error:
        raise CorruptArtifact(f"{path}: unreadable operation record ({error})") from None


def list_operations(directory: Path) -> list[Operation]:
    """Every operation, oldest first."""
    ids = sorted(p.stem for p in directory.glob("op-*.json") if _ID.fullmatch(p.stem))
    return [load(directory, operation_id) for operation_id in ids]


def interrupt_unfinished(directory: Path) -> list[Operation]:
    """Mark every unfinished operation FAILED (INTERRUPTED). Only for a caller holding the
    refit lock: then no live process is running any of them."""
    problem = Problem.of(Interrupted(
        "the process running this refit stopped before it finished (killed, crashed or shut "
        "down); the serving version is whatever it was, and no partial version is loadable"))
    failed = [replace(op, phase=Phase.FAILED, revision=op.revision + 1, updated_at=now_iso(),
                      eta_seconds=None, error=problem)
              for op in list_operations(directory) if not op.done]
    for operation in failed:
        save(directory, operation)
    return failed


def fit_running(directory: Path) -> Conflict:
    """The error for a fit that finds the home's fit lock held by someone else."""
    running = [op.id for op in list_operations(directory) if not op.done]
    holder = (f"a refit ({', '.join(running)})" if running
              else "`cohort fit`, a server's first fit, or a refit not recorded yet")
    return Conflict(f"another fit is running on this home: {holder}; retry when it is done")


@contextmanager
def fit_lock(directory: Path, on_wait: Callable[[Conflict], None] | None = None,
             poll_seconds: float = 0.5) -> Iterator[None]:
    """Hold the home's fit lock around a fit that promotes outside the refit worker
    (`cohort fit`, the server's first fit), so it never races a refit to the serving
    alias. When another fit holds it: Conflict at once, or, given `on_wait`, that is told
    who holds it and the lock is awaited. Holding it, no live process runs a refit, so
    unfinished records are stale."""
    lock = FitLock(open_dir(directory))
    if not lock.acquire():
        if on_wait is None:
            raise fit_running(directory)
        on_wait(fit_running(directory))
        while not lock.acquire():
            time.sleep(poll_seconds)  # polled, not a blocking flock: a signal can land on
            # another thread, and Python runs its handler only between the main thread's
            # bytecodes
    try:
        interrupt_unfinished(directory)
        yield
    finally:
        lock.release()


class FitLock:
    """The exclusive flock on `refit.lock` that marks this process as running a fit that
    may promote (a refit, `cohort fit`, a server's first fit)."""

    def __init__(self, directory: Path):
        self._path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
