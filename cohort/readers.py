"""Read contract tables from CSV or Parquet files (the disk edge of the data contract).

CSV cells are read as text, so "" stays "unknown" and "007" is not silently a number;
parsing and checking happen once, in `cohort.validation`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from cohort.contract import TABLES
from cohort.errors import InvalidArgument, Violation

# Columns that only one table has: they tell a file's table when its name does not.
_SIGNATURE = {
    "arms": "trial",
    "kinetic_strata": "stratum_kind",
    "patients": "best_response",
    "patient_kinetics": "day",
}


def read_frame(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


def table_of(path: Path, frame: pd.DataFrame) -> str | None:
    """The contract table a file holds: by file name (`arms.csv`, `x_patients.parquet`),
    else by a column only that table has."""
    stem = path.stem.lower()
    for name in sorted(TABLES, key=len, reverse=True):
        if stem == name or stem.endswith(f"_{name}") or stem.endswith(f"-{name}"):
            return name
    matches = [name for name, column in _SIGNATURE.items() if column in frame.columns]
    return matches[0] if len(matches) == 1 else None


def read_tables(paths: Iterable[Path | str]) -> dict[str, pd.DataFrame]:
    """Raw (unvalidated) frames by table name; several files of one table are stacked."""
    frames: dict[str, list[pd.DataFrame]] = {}
    problems: list[Violation] = []
    for path in map(Path, paths):
        if not path.is_file():
            problems.append(Violation("file", str(path), "no such file"))
            continue
        try:
            frame = read_frame(path)
        except (ValueError, OSError, UnicodeDecodeError) as error:
            problems.append(Violation("file", str(path), f"unreadable as CSV/Parquet: {error}"))
            continue
        name = table_of(path, frame)
        if name is None:
            problems.append(Violation(
                "file", str(path),
                f"cannot tell which table it holds; name it after one of {sorted(TABLES)}"))
            continue
        frames.setdefault(name, []).append(frame)
    if problems:
        raise InvalidArgument(problems)
    return {name: pd.concat(parts, ignore_index=True) for name, parts in frames.items()}
