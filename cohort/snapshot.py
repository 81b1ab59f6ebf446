"""Immutable snapshots: the bundled data plus accepted submissions up to a ledger position.

A fit always reads a snapshot. Its id is the sha256 of the combined dataset's canonical
JSON, so it depends only on the values (not on the process, dict order, number formatting
or time); the ledger position is kept as metadata beside it. `export` writes model-ready
CSVs (one per contract table, every contract column) and a snapshot.json, atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cohort.bundled import bundled_dataset
from cohort.contract import TABLES
from cohort.dataset import Dataset
from cohort.durable import fsync
from cohort.errors import Conflict, CorruptArtifact, InvalidArgument
from cohort.readers import read_tables
from cohort.store import Store
from cohort.validation import validate

MANIFEST = "snapshot.json"
SHORT_ID = 12


@dataclass(frozen=True)
class Snapshot:
    """What a fit reads: `id` is the content hash of `dataset`, `position` the ledger
    position it was taken at. Treat `dataset` as read-only (pandas cannot enforce it)."""

    id: str
    position: int
    dataset: Dataset = field(compare=False, repr=False)

    @classmethod
    def of(cls, dataset: Dataset, position: int) -> Snapshot:
        return cls(dataset.sha256, position, dataset)

    @property
    def short_id(self) -> str:
        return self.id[:SHORT_ID]

    def row_counts(self) -> dict[str, int]:
        return self.dataset.row_counts()

    def manifest(self) -> dict[str, object]:
        return {"id": self.id, "position": self.position, "row_counts": self.row_counts(),
                "tables": {name: f"{name}.csv" for name in TABLES}}

    def export(self, directory: Path | str) -> Path:
        """Write the tables and snapshot.json to `directory`, which must not exist yet. Files
        go to a temporary sibling renamed into place, so nobody sees a partial export.
        Exporting the same snapshot again is a no-op; a different one is a Conflict."""
        target = Path(directory)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
            try:
                self._write_files(staging)
                os.rename(staging, target)
                fsync(target.parent)
            except OSError:
                if not target.exists():  # else a concurrent export won the rename
                    raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)  # nothing left after a rename
        if _exported_id(target) != self.id:
            raise Conflict(f"{target} already exists and does not hold snapshot {self.short_id}")
        return target

    def _write_files(self, folder: Path) -> None:
        for name in TABLES:
            path = folder / f"{name}.csv"
            self.dataset.table(name).to_csv(path, index=False)
            fsync(path)
        (folder / MANIFEST).write_text(json.dumps(self.manifest(), indent=2) + "\n")
        fsync(folder / MANIFEST)
        fsync(folder)


def _exported_id(directory: Path) -> str | None:
    try:
        return json.loads((directory / MANIFEST).read_text()).get("id")
    except (OSError, ValueError, AttributeError):
        return None


def take_snapshot(store: Store, up_to: int | None = None) -> Snapshot:
    """The bundled data plus the store's submissions up to ledger position `up_to`
    (default: the latest). NotFound for a position the ledger has not reached."""
    position = store.position() if up_to is None else up_to
    combined = Dataset.concat([bundled_dataset(), store.dataset(position)])
    return Snapshot.of(combined, position)


def read_export(directory: Path | str) -> Snapshot:
    """Load an exported snapshot, re-validating its tables; CorruptArtifact when a file is
    missing or invalid or the tables no longer hash to the id in its snapshot.json."""
    folder = Path(directory)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        dataset = validate(read_tables(folder / f"{name}.csv" for name in TABLES))
        expected, position = str(manifest["id"]), int(manifest["position"])
    except (OSError, ValueError, KeyError, TypeError, InvalidArgument) as error:
        raise CorruptArtifact(f"{folder}: not a readable snapshot export ({error})") from None
    if dataset.sha256 != expected:
        raise CorruptArtifact(f"{folder}: tables do not hash to snapshot {expected[:SHORT_ID]}")
    return Snapshot.of(dataset, position)
