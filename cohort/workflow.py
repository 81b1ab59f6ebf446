"""Snapshot → fit → model version, and back: the steps the CLI and the server share.

A version carries the exact snapshot it was fitted on (`snapshot.json`, the canonical
JSON whose sha256 is the snapshot id), so it is self-contained: prediction, validation
and refits rebuild the model's arrays from the version alone, whatever the store holds
now.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import arviz as az
import numpy as np
import pandas as pd

from cohort.dataset import Dataset
from cohort.diagnostics import Gate
from cohort.errors import CorruptArtifact, NotFound
from cohort.fit import DEFAULT_GATE, FitConfig, FitResult, ProgressFn, fit_to_version
from cohort.home import Home
from cohort.model import ModelData, build_model_data, cohort_model
from cohort.model.data import BINARY_COUNTS, ORDINAL_COUNTS
from cohort.snapshot import Snapshot, take_snapshot
from cohort.store import Store
from cohort.versions import Version, load_version, serving_version

SNAPSHOT_FILE = "snapshot.json"


class Fitted(NamedTuple):
    """A loaded version with the model arrays of its snapshot."""

    version: Version
    data: ModelData
    idata: az.InferenceData


def model_data(dataset: Dataset) -> ModelData:
    return build_model_data(dataset.arms, dataset.kinetic_strata, dataset.patients)


def current_snapshot(home: Home, up_to: int | None = None) -> Snapshot:
    with Store.open(home.store_path) as store:
        return take_snapshot(store, up_to)


def fit_snapshot(home: Home, snapshot: Snapshot, config: FitConfig,
                 on_progress: ProgressFn | None = None, init_from: str | None = None,
                 gate: Gate = DEFAULT_GATE) -> tuple[Version, FitResult]:
    """Fit the model on `snapshot` and write a READY or FAILED version (alias untouched)."""
    data = model_data(snapshot.dataset)
    body = snapshot.dataset.canonical_json()
    index = data.index
    extra = {"snapshot_position": snapshot.position, "snapshot_rows": snapshot.row_counts(),
             "products": list(index.products), "diseases": list(index.diseases),
             "targets": list(index.targets), "trials": list(index.trials)}
    return fit_to_version(home.models_dir, cohort_model, {"data": data}, config, snapshot.id,
                          on_progress, init_from, gate, extra_manifest=extra,
                          extra_files={SNAPSHOT_FILE: _writer(body)},
                          observed_data=observed_counts(snapshot.dataset))


def observed_counts(dataset: Dataset) -> dict[str, np.ndarray]:
    """The arms' reported counts (NaN = not reported), one value per arm in table order:
    the model conditions on them through a factor, so ArviZ would not record them."""
    arms = dataset.arms
    columns = [c for pair in ORDINAL_COUNTS for c in pair] + list(BINARY_COUNTS)
    return {c: pd.to_numeric(arms[c], errors="coerce").to_numpy(float) for c in columns}


def _writer(body: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(body)


def resolve_version(home: Home, version_id: str | None) -> str:
    """The given id, else the serving one; NotFound when there is none."""
    chosen = version_id or serving_version(home.models_dir)
    if chosen is None:
        raise NotFound("no model version is serving yet; run `cohort fit` (it promotes a "
                       "READY version) or name one with --version")
    return chosen


def load_dataset(version: Version) -> Dataset:
    """The snapshot a version was fitted on (checksummed by the version loader)."""
    if SNAPSHOT_FILE not in version.manifest["files"]:
        raise CorruptArtifact(f"version {version.id} has no {SNAPSHOT_FILE}")
    return Dataset.from_records(json.loads(version.file(SNAPSHOT_FILE).read_bytes()))


def load_fitted(home: Home, version_id: str | None = None) -> Fitted:
    """A verified version (default: the serving one), its model data and posterior."""
    version = load_version(home.models_dir, resolve_version(home, version_id))
    return Fitted(version, model_data(load_dataset(version)), version.posterior())
