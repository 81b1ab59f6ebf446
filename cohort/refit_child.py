"""The fit of one refit, in a process of its own: `python -m cohort.refit_child JOB`.

Why a process (cohort/refit.py starts one per refit) rather than a thread of the server:
numpyro's effect-handler stack is a module global, so a model traced in one thread while
another thread runs the model through handlers (the server loading or warming an engine)
corrupts both -- seen as `assert is_prng_key(key)` failing in each. `jax_enable_x64` is
process-global too, tracing holds the GIL for tens of seconds, and a finished fit's memory
goes back to the system when its process exits.

JOB is a JSON object (`Job`). Events go to the parent as one JSON object per line on the
original stdout; fd 1 itself is pointed at stderr so that stray prints cannot break them:

    {"event": "snapshot", "snapshot_id": "..."}
    {"event": "progress", "phase": "warmup", "iteration": 50, "total": 200, "eta_seconds": 9.5}
    {"event": "written", "version_id": "...", "diagnostics": {...}, "wall_seconds": 41.0}
    {"event": "error", "reason": "NOT_FOUND", "message": "..."}

The process exits as soon as its stdin reaches end of file. The parent holds stdin open and
never writes to it, so the fit dies with the server (SIGKILL included) rather than writing
a version that no operation records.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import IO, Any

from cohort.diagnostics import Gate
from cohort.errors import CohortError
from cohort.fit import FitConfig, Progress
from cohort.home import Home
from cohort.workflow import current_snapshot, fit_snapshot

EXIT_ORPHANED = 75
Emit = Callable[..., None]  # emit(event=..., **fields)
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    home: str
    ledger_position: int | None  # None = the latest
    init_from: str | None  # version to warm-start from; None = cold
    config: FitConfig
    gate: Gate

    def to_json(self) -> str:
        return json.dumps(asdict(self))  # Infinity is fine: both ends are Python

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(**{**data, "config": FitConfig(**data["config"]), "gate": Gate(**data["gate"])})


def _events() -> IO[str]:
    """A private copy of stdout for events; stdout itself then writes to stderr."""
    stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return stream


def _exit_with_parent() -> None:
    sys.stdin.buffer.read()  # returns at end of file: the parent closed it, or died
    os._exit(EXIT_ORPHANED)


def run(job: Job, emit: Emit) -> None:
    """Snapshot and fit (writing a READY or FAILED version), reporting each step."""
    home = Home.resolve(job.home)
    snapshot = current_snapshot(home, job.ledger_position)
    emit(event="snapshot", snapshot_id=snapshot.id)

    def progress(p: Progress) -> None:
        emit(event="progress", **p._asdict())

    version, result = fit_snapshot(home, snapshot, job.config, progress, job.init_from, job.gate)
    emit(event="written", version_id=version.id, diagnostics=result.diagnostics.to_dict(),
         wall_seconds=result.timings.wall_s)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    events = _events()
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()

    def emit(**event: Any) -> None:
        events.write(json.dumps(event) + "\n")

    try:
        run(Job.from_json(argv[0]), emit)
    except CohortError as error:
        emit(event="error", reason=error.reason, message=str(error))
    except Exception:  # noqa: BLE001 - the parent must hear of it; the traceback goes to stderr
        _LOG.exception("refit fit failed")
        emit(event="error", reason="INTERNAL", message="internal error; see the server log")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
