"""Snapshots: content-hash ids stable across processes, earlier positions, atomic export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cohort.bundled import bundled_dataset
from cohort.errors import Conflict, CorruptArtifact, NotFound
from cohort.readers import read_tables
from cohort.snapshot import Snapshot, read_export, take_snapshot
from cohort.store import Store
from cohort.validation import validate

ARM = {"arm_id": "SNAP_A", "trial": "t, with \"quotes\"", "product": "p", "target": "CD19",
       "cell_type": "CAR-NK", "disease": "AML", "n_treated": "12", "peak_median": "1e-07",
       "peak_unit": "cells/uL", "tmax_median_days": "0.30000000000000004", "notes": "NA"}
PATIENT = {"patient_id": "SNAP_P1", "arm_id": "SNAP_A", "age_years": "61.5", "peak": "123.25",
           "peak_unit": "copies/ug", "best_response": "PR", "ldh_high": "1"}
KINETICS = {"patient_id": "SNAP_P1", "day": "7", "value": "0", "unit": "copies/ug",
            "below_lloq": "1"}


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "store.sqlite") as opened:
        yield opened


def _fill(store: Store) -> None:
    store.submit("a", {"arms": pd.DataFrame([ARM])})
    store.submit("b", {"patients": pd.DataFrame([PATIENT]),
                       "patient_kinetics": pd.DataFrame([KINETICS])})


def test_empty_store_snapshot_is_the_bundled_data(store: Store) -> None:
    snapshot = take_snapshot(store)
    assert snapshot.position == 0
    assert snapshot.row_counts() == {"arms": 39, "kinetic_strata": 10, "patients": 0,
                                     "patient_kinetics": 0}
    assert snapshot.id == bundled_dataset().sha256
    assert snapshot.short_id == snapshot.id[:12]


def test_ids_change_with_submissions_and_earlier_positions_reproduce(store: Store) -> None:
    bundled = take_snapshot(store)
    _fill(store)
    ids = [take_snapshot(store, position).id for position in (0, 1, 2)]
    assert ids[0] == bundled.id
    assert len(set(ids)) == 3
    assert take_snapshot(store) == take_snapshot(store, 2)
    assert take_snapshot(store, 1).row_counts()["arms"] == 40
    with pytest.raises(NotFound):
        take_snapshot(store, 3)


def test_ids_are_stable_across_processes(store: Store) -> None:
    _fill(store)
    script = ("import sys; from cohort.store import Store; from cohort.snapshot import "
              "take_snapshot\nwith Store.open(sys.argv[1]) as s:\n"
              "    print(take_snapshot(s).id, take_snapshot(s, 1).id)")
    env = {**os.environ, "PYTHONHASHSEED": "4242"}  # other set/dict iteration orders
    out = subprocess.run([sys.executable, "-c", script, str(store.path)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [take_snapshot(store).id, take_snapshot(store, 1).id]


def test_export_round_trips(store: Store, tmp_path: Path) -> None:
    _fill(store)
    snapshot = take_snapshot(store)
    target = snapshot.export(tmp_path / "exports" / "snap")
    files = sorted(p.name for p in target.iterdir())
    assert files == ["arms.csv", "kinetic_strata.csv", "patient_kinetics.csv", "patients.csv",
                     "snapshot.json"]
    manifest = json.loads((target / "snapshot.json").read_text())
    assert (manifest["id"], manifest["position"]) == (snapshot.id, 2)
    assert manifest["row_counts"] == snapshot.row_counts()
    reread = validate(read_tables(target / f for f in files if f.endswith(".csv")))
    assert reread.sha256 == snapshot.id
    assert read_export(target) == snapshot
    assert [p.name for p in target.parent.iterdir()] == ["snap"]  # no staging left behind


def test_export_is_idempotent_and_never_overwrites(store: Store, tmp_path: Path) -> None:
    first = take_snapshot(store)
    target = first.export(tmp_path / "snap")
    assert first.export(target) == target
    _fill(store)
    with pytest.raises(Conflict):
        take_snapshot(store).export(target)
    assert read_export(target) == first


def test_a_tampered_export_is_refused(store: Store, tmp_path: Path) -> None:
    target = take_snapshot(store).export(tmp_path / "snap")
    arms = target / "arms.csv"
    arms.write_text(arms.read_text().replace(",101,", ",102,", 1))
    with pytest.raises(CorruptArtifact):
        read_export(target)
    (target / "patients.csv").unlink()
    with pytest.raises(CorruptArtifact):
        read_export(target)


def test_snapshots_compare_by_id_and_position() -> None:
    data = bundled_dataset()
    assert Snapshot.of(data, 0) == Snapshot.of(data, 0)
    assert Snapshot.of(data, 0) != Snapshot.of(data, 1)
