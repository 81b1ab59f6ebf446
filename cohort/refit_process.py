"""A refit's fit, in a process of its own, and both ends of the pipe between them.

    child = spawn(job)                 # python -m cohort.refit_process JOB
    with child:
        for event in events(child): ...   # Snapshot, Progress, Written, then exit; or Problem

Why a process (cohort/refit.py starts one per refit) rather than a thread of the server:
numpyro's effect-handler stack is a module global, so a model traced in one thread while
another thread runs the model through handlers (the server loading or warming an engine)
corrupts both -- seen as `assert is_prng_key(key)` failing in each. `jax_enable_x64` is
process-global too, tracing holds the GIL for tens of seconds, and a finished fit's memory
goes back to the system when its process exits.

Events are JSON lines on the child's original stdout; its fd 1 is pointed at stderr, so
stray prints cannot break them (stderr is the server's: tracebacks land in its log). The
child exits as soon as its stdin reaches end of file. The parent holds stdin open and never
writes to it, so the fit dies with the server (SIGKILL included) rather than writing a
version that no operation records.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import NamedTuple

import jax

from cohort.diagnostics import Diagnostics, Gate
from cohort.errors import CohortError
from cohort.fit import FitConfig, Progress
from cohort.home import Home
from cohort.operations import Problem
from cohort.workflow import current_snapshot, fit_snapshot

EXIT_ORPHANED = 75
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    home: str
    ledger_position: int | None  # None = the latest
    init_from: str | None  # version to warm-start from; None = cold
    config: FitConfig
    gate: Gate

    def to_json(self) -> str:
        return json.dumps(asdict(self))  # Infinity (a relaxed gate) is fine: both ends parse it

    @classmethod
    def from_json(cls, text: str) -> Job:
        data = json.loads(text)
        return cls(**{**data, "config": FitConfig(**data["config"]), "gate": Gate(**data["gate"])})


class Snapshot(NamedTuple):
    snapshot_id: str  # taken; compilation starts


class Written(NamedTuple):
    version_id: str  # READY or FAILED
    diagnostics: Diagnostics
    wall_seconds: float


Event = Snapshot | Progress | Written | Problem  # a Problem is the last event of a failed fit
_KINDS: dict[str, type[Event]] = {kind.__name__: kind
                                   for kind in (Snapshot, Progress, Written, Problem)}


def encode(event: Event) -> str:
    fields = asdict(event) if isinstance(event, Problem) else event._asdict()
    if isinstance(event, Written):
        fields["diagnostics"] = event.diagnostics.to_dict()
    return json.dumps({"event": type(event).__name__, **fields})


def decode(line: str) -> Event:
    data = json.loads(line)
    kind = _KINDS[data.pop("event")]
    if kind is Written:
        data["diagnostics"] = Diagnostics.from_dict(data["diagnostics"])
    return kind(**data)


def spawn(job: Job) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", __name__, job.to_json()],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=_child_env())


def events(child: subprocess.Popen[str]) -> Iterator[Event]:
    """The child's events until it closes stdout (exits)."""
    for line in child.stdout or ():
        yield decode(line)


def _child_env() -> dict[str, str]:
    """The server's environment, plus its persistent compile cache (perhaps set by config,
    not environment) so that refits of an unchanged model skip compilation, and no GPU memory
    preallocation, which would starve the server's own engine."""
    env = dict(os.environ)
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if jax.config.jax_compilation_cache_dir:
        env["JAX_COMPILATION_CACHE_DIR"] = jax.config.jax_compilation_cache_dir
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = str(
            jax.config.jax_persistent_cache_min_compile_time_secs)
    return env


# --- the child -------------------------------------------------------------------------

def run(job: Job, emit: Callable[[Event], None]) -> None:
    """Snapshot and fit (writing a READY or FAILED version), reporting each step."""
    home = Home.resolve(job.home)
    snapshot = current_snapshot(home, job.ledger_position)
    emit(Snapshot(snapshot.id))
    version, result = fit_snapshot(home, snapshot, job.config, emit, job.init_from, job.gate)
    emit(Written(version.id, result.diagnostics, result.timings.wall_s))


def _exit_with_parent() -> None:
    sys.stdin.buffer.read()  # returns at end of file: the parent closed it, or died
    os._exit(EXIT_ORPHANED)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)  # events only
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()

    def emit(event: Event) -> None:
        out.write(encode(event) + "\n")

    try:
        run(Job.from_json(argv[0]), emit)
    except CohortError as error:
        emit(Problem.of(error))
    except Exception:  # noqa: BLE001 - the parent must hear of it; the traceback goes to stderr
        _LOG.exception("refit fit failed")
        emit(Problem("INTERNAL", "internal error; see the server log"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
