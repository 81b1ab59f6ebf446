"""Version directories: atomic write, verified load, serving alias, rollback."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import arviz as az
import numpy as np
import pytest
import xarray as xr

from cohort import versions
from cohort.errors import CorruptArtifact, InvalidArgument, NotFound
from cohort.versions import FAILED, MANIFEST, POSTERIOR, READY, SERVING, Version

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


def _idata(seed: int) -> az.InferenceData:
    rng = np.random.default_rng(seed)
    return az.from_dict(
        posterior={"mu": rng.normal(size=(2, 50)), "theta": rng.normal(size=(2, 50, 3))},
        sample_stats={"diverging": np.zeros((2, 50), bool)},
        log_likelihood={"y": rng.normal(size=(2, 50, 3))},
        observed_data={"y": np.array([1.0, 2.0, 3.0])},
        constant_data={"sigma": np.array([1.0, 1.0, 2.0])},
    )


def _write(models_dir: Path, seed: int = 0, status: str = READY, minutes: int = 0) -> Version:
    writers = {POSTERIOR: _idata(seed).to_netcdf, "notes.txt": lambda p: p.write_text("hi")}
    return versions.write_version(models_dir, writers, {"status": status, "seed": seed},
                                  T0 + timedelta(minutes=minutes))


def test_round_trip(tmp_path: Path) -> None:
    written = _write(tmp_path, seed=1)
    loaded = versions.load_version(tmp_path, written.id)
    assert loaded.id == written.id and loaded.status == READY
    assert loaded.id.startswith("v20250101T120000Z-")
    assert set(loaded.manifest["files"]) == {POSTERIOR, "notes.txt"}
    plain = az.from_netcdf(loaded.file(POSTERIOR))  # no cohort code needed to read it
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data",
            "constant_data"} <= set(plain.groups())
    with xr.open_dataset(loaded.file(POSTERIOR), group="posterior") as ds:
        np.testing.assert_array_equal(ds["mu"].values, _idata(1).posterior["mu"].values)
    assert loaded.posterior().posterior["theta"].shape == (2, 50, 3)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(versions.TEMP_PREFIX)]


def test_flipped_byte_is_refused(tmp_path: Path) -> None:
    version = _write(tmp_path)
    path = version.file(POSTERIOR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptArtifact, match="checksum"):
        versions.load_version(tmp_path, version.id)


def test_edited_manifest_is_refused(tmp_path: Path) -> None:
    version = _write(tmp_path, status=FAILED)
    manifest = json.loads(version.file(MANIFEST).read_text())
    version.file(MANIFEST).write_text(json.dumps({**manifest, "status": READY}))
    with pytest.raises(CorruptArtifact, match="manifest"):
        versions.load_version(tmp_path, version.id)


@pytest.mark.parametrize("damage", ["no_manifest", "missing_file", "extra_file"])
def test_incomplete_directory_is_refused(tmp_path: Path, damage: str) -> None:
    version = _write(tmp_path)
    if damage == "no_manifest":
        version.file(MANIFEST).unlink()
    elif damage == "missing_file":
        version.file("notes.txt").unlink()
    else:
        version.file("stray.bin").write_bytes(b"x")
    with pytest.raises(CorruptArtifact):
        versions.load_version(tmp_path, version.id)
    [summary] = versions.list_versions(tmp_path)
    assert summary.status == "CORRUPT" and summary.problem


def test_temp_dir_unknown_and_malformed_ids(tmp_path: Path) -> None:
    temp = tmp_path / f"{versions.TEMP_PREFIX}abc"
    temp.mkdir()
    with pytest.raises(CorruptArtifact):
        versions.load_version(tmp_path, temp.name)
    with pytest.raises(NotFound):
        versions.load_version(tmp_path, "v20250101T120000Z-00000000")
    with pytest.raises(InvalidArgument):
        versions.load_version(tmp_path, "../escape")
    assert versions.list_versions(tmp_path) == []


def test_failed_writer_leaves_nothing(tmp_path: Path) -> None:
    def boom(path: Path) -> None:
        path.write_bytes(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        versions.write_version(tmp_path, {POSTERIOR: boom}, {"status": READY}, T0)
    assert list(tmp_path.iterdir()) == []


def test_stale_temp_dirs_are_cleaned_on_open(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".tmp-old", tmp_path / ".tmp-new"
    for d in (stale, fresh):
        d.mkdir()
        (d / POSTERIOR).write_bytes(b"half")
    old = time.time() - 2 * versions.STALE_TEMP_SECONDS
    os.utime(stale, (old, old))
    versions.open_models_dir(tmp_path)
    assert not stale.exists() and fresh.exists()  # a fresh one may be a write in progress


def test_failed_version_is_never_served(tmp_path: Path) -> None:
    good = _write(tmp_path, seed=1)
    versions.set_serving(tmp_path, good.id)
    failed = _write(tmp_path, seed=2, status=FAILED, minutes=1)
    assert versions.load_version(tmp_path, failed.id).status == FAILED
    with pytest.raises(InvalidArgument, match="FAILED"):
        versions.set_serving(tmp_path, failed.id)
    assert versions.serving_version(tmp_path) == good.id


def test_corrupt_version_is_never_served(tmp_path: Path) -> None:
    version = _write(tmp_path)
    version.file("notes.txt").write_text("changed")
    with pytest.raises(CorruptArtifact):
        versions.set_serving(tmp_path, version.id)
    assert versions.serving_version(tmp_path) is None


def test_serving_alias_round_trip_and_rollback(tmp_path: Path) -> None:
    assert versions.serving_version(tmp_path) is None
    first, second = _write(tmp_path, seed=1), _write(tmp_path, seed=2, minutes=1)
    failed = _write(tmp_path, seed=3, status=FAILED, minutes=2)
    third = _write(tmp_path, seed=4, minutes=3)
    versions.set_serving(tmp_path, third.id)
    assert versions.serving_version(tmp_path) == third.id
    assert versions.rollback(tmp_path).id == second.id  # skips the FAILED one
    assert versions.rollback(tmp_path).id == first.id
    with pytest.raises(NotFound):
        versions.rollback(tmp_path)
    listed = versions.list_versions(tmp_path)
    assert [v.id for v in listed] == [first.id, second.id, failed.id, third.id]
    assert [v.serving for v in listed] == [True, False, False, False]
    assert (tmp_path / SERVING).read_text() == f"{first.id}\n"
    assert not [p for p in tmp_path.iterdir() if versions.TEMP_PREFIX in p.name]


def test_garbage_alias_is_reported(tmp_path: Path) -> None:
    (tmp_path / SERVING).write_text("../../etc/passwd\n")
    with pytest.raises(CorruptArtifact):
        versions.serving_version(tmp_path)


def test_bundled_fit_opens_with_plain_arviz_and_records_the_counts(
        fitted_home: tuple) -> None:
    """The model conditions on counts through a factor; the version still records them."""
    import pandas as pd

    from cohort.workflow import load_dataset

    _, version = fitted_home
    idata = az.from_netcdf(version.path / POSTERIOR)
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data",
            "constant_data"} <= set(idata.groups())
    arms = load_dataset(version).arms
    for column in ("n_orr", "n_cr", "n_crs_g3", "n_gvhd_any"):
        np.testing.assert_array_equal(idata.observed_data[column].values,
                                      pd.to_numeric(arms[column]).to_numpy(float))
