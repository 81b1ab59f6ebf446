"""SIGKILL during ingest loses no acknowledged submission and never corrupts the store."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from cohort.store import Store

WRITER = Path(__file__).with_name("ingest_writer.py")
ROUNDS = 12
SEED = 20260509
STALL_S = 60.0


def _run_and_kill(path: Path, first: int, delay: float) -> list[tuple[str, str]]:
    """Start the writer at submission `first`, SIGKILL it `delay` s after its first
    acknowledgement (so every kill lands mid-ingest however slow the start), and return
    the acknowledgements it printed; a line cut short by the kill was not acknowledged."""
    writer = subprocess.Popen([sys.executable, str(WRITER), str(path), str(first)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    guard = threading.Timer(STALL_S, writer.kill)  # a stalled writer fails, never hangs
    guard.start()
    try:
        head = writer.stdout.readline()
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
        out, err = writer.communicate()
    finally:
        guard.cancel()
    assert writer.returncode == -signal.SIGKILL and head, f"writer ended by itself:\n{err}"
    return [tuple(line.split()) for line in (head + out).split("\n")[:-1]]


def _check(path: Path, acknowledged: dict[str, str]) -> None:
    with Store.open(path) as store:
        assert store.integrity_check() == "ok"
        stored = {entry.request_id: entry.sha256 for entry in store.ledger()}
        lost = {rid for rid, sha in acknowledged.items() if stored.get(rid) != sha}
        assert not lost, f"acknowledged but not stored: {sorted(lost)}"
        assert store.verify() == []
        assert [e.seq for e in store.ledger()] == list(range(1, len(stored) + 1))


def test_sigkill_during_ingest_loses_no_acknowledged_submission(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    path = tmp_path / "store.sqlite"
    acknowledged: dict[str, str] = {}
    first = 0
    for _ in range(ROUNDS):
        acks = _run_and_kill(path, first, rng.uniform(0.0, 0.6))
        acknowledged.update(acks)
        if acks:
            # retry from the first unacknowledged submission, as a client would: the one
            # in flight at the kill may already be committed and must be answered as such
            first = int(acks[-1][0].removeprefix("crash-")) + 1
        _check(path, acknowledged)
    assert len(acknowledged) >= ROUNDS
