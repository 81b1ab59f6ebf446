"""A validated set of the four contract tables, with a content hash.

A Dataset is what a submission stores and what a snapshot hands the model: typed frames
(nullable Int64 / Float64, text as object with None), one per table, always with every
contract column in contract order. Its canonical JSON (and so its sha256) depends only on
the values, not on how they arrived (CSV, Parquet, column order, formatting of numbers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cohort.contract import TABLES

Key = tuple[Any, ...]
DTYPES = {"text": "object", "int": "Int64", "float": "Float64"}


def empty_frame(name: str) -> pd.DataFrame:
    table = TABLES[name]
    return pd.DataFrame({c.name: pd.Series([], dtype=DTYPES[c.kind]) for c in table.columns})


def _plain(value: Any) -> Any:
    """JSON-ready cell: None for missing, Python int/float/str otherwise."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


@dataclass(frozen=True)
class Dataset:
    arms: pd.DataFrame
    kinetic_strata: pd.DataFrame
    patients: pd.DataFrame
    patient_kinetics: pd.DataFrame

    @classmethod
    def from_tables(cls, tables: Mapping[str, pd.DataFrame]) -> Dataset:
        """Fill absent tables with empty frames; frames must already be typed."""
        return cls(**{name: (tables[name] if name in tables else empty_frame(name))
                      .reset_index(drop=True) for name in TABLES})

    @classmethod
    def from_records(cls, records: Mapping[str, list[dict[str, Any]]]) -> Dataset:
        """Inverse of `to_records` (used by the store to read back canonical payloads)."""
        frames = {}
        for name, rows in records.items():
            table = TABLES[name]
            frames[name] = pd.DataFrame(
                {c.name: pd.Series([r.get(c.name) for r in rows], dtype=DTYPES[c.kind])
                 for c in table.columns})
        return cls.from_tables(frames)

    @classmethod
    def concat(cls, parts: Iterable[Dataset]) -> Dataset:
        parts = list(parts)
        return cls.from_tables({
            name: pd.concat([empty_frame(name)] + [p.table(name) for p in parts],
                            ignore_index=True)
            for name in TABLES})

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def row_counts(self) -> dict[str, int]:
        return {name: len(self.table(name)) for name in TABLES}

    def keys(self, name: str) -> set[Key]:
        frame = self.table(name)
        columns = list(TABLES[name].key)
        return {tuple(_plain(v) for v in row) for row in frame[columns].itertuples(index=False)}

    def to_records(self) -> dict[str, list[dict[str, Any]]]:
        """Non-empty tables as lists of {column: value}, in contract column order."""
        return {name: [{k: _plain(v) for k, v in row.items()}
                       for row in self.table(name).to_dict("records")]
                for name in TABLES if len(self.table(name))}

    def canonical_json(self) -> bytes:
        return json.dumps(self.to_records(), sort_keys=True, separators=(",", ":"),
                          allow_nan=False).encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json()).hexdigest()
