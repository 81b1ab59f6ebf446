"""The embedded store: all-or-nothing ingest, idempotent request ids, append-only ledger."""

from __future__ import annotations

import sqlite3
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from cohort.bundled import bundled_dataset
from cohort.errors import Conflict, CorruptArtifact, InvalidArgument, NotFound
from cohort.store import Receipt, Store
from cohort.validation import validate

BUNDLED_ARM = "ZUMA1_P2_axicel_LBCL"


def arms(*arm_ids: str, **overrides: str) -> pd.DataFrame:
    return pd.DataFrame([{"arm_id": arm_id, "trial": f"trial of {arm_id}", "product": "p",
                          "target": "CD19", "cell_type": "CAR-T", "disease": "LBCL",
                          "n_treated": "20", "flu_mg_m2_day": "30", "flu_days": "3",
                          "peak_median": "0.30000000000000004", "peak_unit": "copies/ug",
                          **overrides} for arm_id in arm_ids])


def patients(count: int, arm_id: str = BUNDLED_ARM, prefix: str = "P") -> pd.DataFrame:
    return pd.DataFrame([{"patient_id": f"{prefix}{k:04d}", "arm_id": arm_id,
                          "age_years": str(30 + k % 50), "crs_grade": str(k % 5),
                          "best_response": "CR" if k % 2 else "PD"} for k in range(count)])


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "home" / "store.sqlite") as opened:
        yield opened


def test_submission_is_stored_with_its_ledger_entry(store: Store) -> None:
    raw = {"arms": arms("NEW_A"), "patients": patients(3, "NEW_A")}
    receipt = store.submit("req-1", raw)
    entry = receipt.entry
    assert not receipt.replayed
    assert (entry.seq, entry.request_id) == (1, "req-1")
    assert entry.row_counts == {"arms": 1, "kinetic_strata": 0, "patients": 3,
                                "patient_kinetics": 0}
    assert datetime.fromisoformat(entry.created_at).utcoffset().total_seconds() == 0
    expected = validate(raw, base=bundled_dataset())
    assert entry.sha256 == expected.sha256 == store.dataset().sha256
    assert store.ledger() == [entry]
    assert store.position() == 1


def test_settings_are_wal_and_full_sync(store: Store) -> None:
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_one_bad_row_in_a_thousand_stores_nothing(store: Store) -> None:
    store.submit("before", {"arms": arms("EARLIER")})
    bad = patients(1000)
    bad.loc[536, "crs_grade"] = "7"  # data row 537
    raw = {"arms": arms("NEW_B"), "patients": bad}
    with pytest.raises(InvalidArgument) as caught:
        store.submit("big", raw)
    [violation] = caught.value.violations
    assert (violation.table, violation.row, violation.field, violation.value) == (
        "patients", 537, "crs_grade", "7")
    assert [e.request_id for e in store.ledger()] == ["before"]
    assert store.dataset().row_counts() == {"arms": 1, "kinetic_strata": 0, "patients": 0,
                                            "patient_kinetics": 0}
    bad.loc[536, "crs_grade"] = "4"
    assert store.submit("big", raw).row_counts["patients"] == 1000


def test_keys_stay_unique_and_references_reach_earlier_submissions(store: Store) -> None:
    store.submit("arm", {"arms": arms("NEW_C")})
    store.submit("pts", {"patients": patients(2, "NEW_C")})
    with pytest.raises(InvalidArgument) as again:
        store.submit("arm-again", {"arms": arms("NEW_C", BUNDLED_ARM)})
    assert {(v.row, v.field) for v in again.value.violations} == {(1, "arm_id"), (2, "arm_id")}
    with pytest.raises(InvalidArgument) as dangling:
        store.submit("dangling", {"patients": patients(1, "NO_SUCH_ARM", prefix="Q")})
    assert [v.field for v in dangling.value.violations] == ["arm_id"]
    assert store.position() == 2


def test_same_id_and_payload_is_stored_once_with_identical_answers(store: Store) -> None:
    raw = {"arms": arms("NEW_D")}
    # the same values written differently are the same canonical payload
    reformatted = {"arms": arms("NEW_D", flu_mg_m2_day="30.0", n_treated=" 20")
                   .iloc[:, ::-1]}
    receipts = [store.submit("same", payload) for payload in (raw, reformatted, raw)]
    assert [r.replayed for r in receipts] == [False, True, True]
    assert len({r.entry for r in receipts}) == 1
    assert store.ledger() == [receipts[0].entry]


def test_same_id_with_another_payload_is_a_conflict(store: Store) -> None:
    first = store.submit("same", {"arms": arms("NEW_E")})
    before = store.dataset().sha256
    with pytest.raises(Conflict):
        store.submit("same", {"arms": arms("NEW_E", n_treated="21")})
    with pytest.raises(Conflict):
        store.submit("same", {"arms": arms("OTHER_ARM")})
    with pytest.raises(Conflict):  # invalid, so certainly not the stored payload
        store.submit("same", {"arms": arms("NEW_E", n_treated="many")})
    assert store.ledger() == [first.entry]
    assert store.dataset().sha256 == before


Submission = tuple[str, dict[str, pd.DataFrame]]


def _race(path: Path, shared: Store | None, submission: Callable[[int], Submission],
          threads: int = 8) -> list[Receipt]:
    """`threads` submits released together, through one Store or a Store per thread."""
    barrier = threading.Barrier(threads)

    def one(index: int) -> Receipt:
        own = shared or Store.open(path)
        try:
            barrier.wait()
            return own.submit(*submission(index))
        finally:
            if shared is None:
                own.close()

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(threads)))


@pytest.mark.parametrize("shared", [True, False], ids=["one-store", "store-per-thread"])
def test_concurrent_repeats_store_one_entry(store: Store, shared: bool) -> None:
    receipts = _race(store.path, store if shared else None,
                     lambda _: ("racy", {"arms": arms("SHARED")}))
    assert len({r.entry for r in receipts}) == 1
    assert sorted(r.replayed for r in receipts) == [False] + [True] * 7
    assert [e.request_id for e in store.ledger()] == ["racy"]


@pytest.mark.parametrize("shared", [True, False], ids=["one-store", "store-per-thread"])
def test_concurrent_distinct_submissions_all_land(store: Store, shared: bool) -> None:
    receipts = _race(store.path, store if shared else None,
                     lambda k: (f"id-{k}", {"arms": arms(f"ARM_{k}")}))
    assert sorted(r.seq for r in receipts) == list(range(1, 9))
    assert store.dataset().row_counts()["arms"] == 8
    assert store.verify() == []


@pytest.mark.parametrize("request_id", ["", "   ", "x" * 129, "line\nbreak", "tab\there", 7])
def test_bad_request_ids_are_named(store: Store, request_id: object) -> None:
    with pytest.raises(InvalidArgument) as caught:
        store.submit(request_id, {"arms": arms("NEW_F")})  # type: ignore[arg-type]
    assert [v.field for v in caught.value.violations] == ["request_id"]
    assert store.ledger() == []
    assert store.submit("x" * 128, {"arms": arms("NEW_F")}).seq == 1


@pytest.mark.parametrize("raw", [{}, {"arms": arms("X").iloc[:0]}, {"trials": arms("X")}])
def test_empty_or_unknown_submissions_are_refused(store: Store, raw: dict) -> None:
    with pytest.raises(InvalidArgument):
        store.submit("nothing", raw)
    assert store.ledger() == []


def test_positions_outside_the_ledger(store: Store) -> None:
    store.submit("one", {"arms": arms("NEW_G")})
    assert store.dataset(0).row_counts()["arms"] == 0
    with pytest.raises(NotFound):
        store.dataset(2)
    with pytest.raises(InvalidArgument):
        store.dataset(-1)


@pytest.mark.parametrize("statement", [
    "UPDATE ledger SET sha256 = upper(sha256)", "DELETE FROM ledger",
    "UPDATE payloads SET body = x'00'", "DELETE FROM payloads"])
def test_ledger_is_append_only(store: Store, statement: str) -> None:
    store.submit("one", {"arms": arms("NEW_H")})
    with sqlite3.connect(store.path) as raw, pytest.raises(sqlite3.IntegrityError,
                                                           match="append-only"):
        raw.execute(statement)
    assert len(store.ledger()) == 1 and store.verify() == []


def test_verify_reports_a_tampered_payload(store: Store) -> None:
    store.submit("one", {"arms": arms("NEW_I")})
    store.submit("two", {"arms": arms("NEW_J")})
    tampered = store.dataset(1)
    tampered.arms.loc[0, "n_treated"] = 21
    forged = zlib.compress(tampered.canonical_json())
    with sqlite3.connect(store.path) as raw:
        raw.execute("DROP TRIGGER payloads_no_update")
        raw.execute("UPDATE payloads SET body = ? WHERE seq = 1", (forged,))
    with Store.open(store.path) as fresh:
        [problem] = fresh.verify()
        assert "submission 1" in problem
        with pytest.raises(CorruptArtifact):
            fresh.dataset()


def test_a_file_that_is_not_a_store_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorruptArtifact):
        Store.open(path)
