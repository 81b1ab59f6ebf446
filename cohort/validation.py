"""Validate raw tables against the contract, reporting every bad cell at once.

Input frames may hold strings (CSV read as text) or typed values (Parquet); both parse
through one path. A cell that fails to parse is reported once and then left out of the
row rules, so one bad cell never produces a cascade of derived complaints.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from cohort.contract import (
    TABLES,
    AtMost,
    Column,
    DoseDays,
    NeedsUnit,
    NotAutologous,
    RowRule,
    Table,
)
from cohort.dataset import DTYPES, Dataset, Key
from cohort.errors import InvalidArgument, Violation


class _BadCell(ValueError):
    """A cell broke its column's rule; the message is the rule."""


def _is_empty(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _to_number(column: Column, value: Any) -> float | int:
    if isinstance(value, bool):
        raise _BadCell(f"must be {'an integer' if column.kind == 'int' else 'a number'}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise _BadCell(f"must be {'an integer' if column.kind == 'int' else 'a finite number'}")
    if column.kind == "int":
        if not number.is_integer():
            raise _BadCell("must be an integer")
        return int(number)
    return number


def _check_range(column: Column, number: float | int) -> None:
    unit = f" {column.unit}" if column.unit and column.kind == "float" else ""
    if column.positive and number <= 0:
        raise _BadCell(f"must be > 0{unit}")
    if column.low is not None and number < column.low:
        raise _BadCell(f"must be >= {column.low:g}{unit}")
    if column.high is not None and number > column.high:
        raise _BadCell(f"must be <= {column.high:g}{unit}")


def parse_cell(column: Column, value: Any) -> str | int | float | None:
    """The typed value of one cell, None when empty; raises _BadCell with the rule."""
    if _is_empty(value):
        if column.required:
            raise _BadCell("required (empty is not allowed)")
        return None
    if column.kind == "text":
        parsed: str | int | float = str(value).strip()
    else:
        try:
            parsed = _to_number(column, value)
            _check_range(column, parsed)
        except _BadCell:
            if column.vocab is None:
                raise
            parsed = str(value)  # a coded number (0/1 flag): name the codes, not "integer"
    if column.vocab is not None and str(parsed) not in column.vocab:
        raise _BadCell(f"must be one of {{{', '.join(column.vocab)}}}")
    return parsed


def _row_rule(rule: RowRule, row: dict[str, Any]) -> tuple[str, str] | None:
    """(column, message) when `row` breaks `rule`; values that failed to parse are absent."""
    match rule:
        case AtMost(small, large, fallback):
            bound_col = large if row.get(large) is not None else fallback
            bound = row.get(bound_col) if bound_col else None
            if row.get(small) is not None and bound is not None and row[small] > bound:
                return small, f"must be <= {bound_col} ({bound})"
        case NeedsUnit(value, unit):
            if row.get(value) is not None and row.get(unit) is None and unit not in row["_bad"]:
                return unit, f"required when {value} is given"
        case DoseDays(dose, days):
            d, n = row.get(dose), row.get(days)
            if d is not None and n is not None and (d > 0) != (n > 0):
                return days, f"must be >= 1 when {dose} > 0 and 0 when {dose} = 0 ({dose} = {d:g})"
        case NotAutologous(column, source):
            if (row.get(column) or 0) > 0 and row.get(source) == "autologous":
                return column, f"must be 0 when {source} is autologous (GvHD needs donor cells)"
    return None


def _parse_frame(table: Table, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Violation]]:
    violations = [
        Violation(name, "", "unknown column (not in the data contract)", table.name)
        for name in frame.columns if name not in table.names
    ]
    violations += [
        Violation(c.name, "", "required column is missing", table.name)
        for c in table.columns if c.required and c.name not in frame.columns
    ]
    records: list[dict[str, Any]] = []
    for position, raw in enumerate(frame.to_dict("records"), start=1):
        row: dict[str, Any] = {"_bad": set()}
        for column in table.columns:
            value = raw.get(column.name)
            try:
                row[column.name] = parse_cell(column, value)
            except _BadCell as bad:
                row[column.name] = None
                row["_bad"].add(column.name)
                shown = "" if _is_empty(value) else str(value)
                violations.append(Violation(column.name, shown, str(bad), table.name, position))
        broken: dict[str, list[str]] = {}  # one violation per cell, however many rules
        for rule in table.rules:
            if found := _row_rule(rule, row):
                broken.setdefault(found[0], []).append(found[1])
        for name, messages in broken.items():
            shown = "" if row[name] is None else str(row[name])
            violations.append(Violation(name, shown, "; ".join(messages), table.name, position))
        records.append(row)
    typed = pd.DataFrame(
        {c.name: pd.Series([r[c.name] for r in records], dtype=DTYPES[c.kind])
         for c in table.columns}
    )
    return typed, violations


def _key_violations(table: Table, frame: pd.DataFrame, existing: set[Key]) -> list[Violation]:
    seen = set(existing)
    violations = []
    for position, key in enumerate(frame[list(table.key)].itertuples(index=False), start=1):
        key = tuple(key)
        if any(part is None or part is pd.NA for part in key):
            continue
        if key in seen:
            where = "already in the snapshot" if key in existing else "repeated in this table"
            field = "/".join(table.key)
            violations.append(Violation(field, "/".join(map(str, key)),
                                        f"must be unique ({where})", table.name, position))
        seen.add(key)
    return violations


def _reference_violations(table: Table, frame: pd.DataFrame, known: Mapping[str, set[Key]]
                          ) -> list[Violation]:
    violations = []
    for ref in table.references:
        targets = {key[0] for key in known.get(ref.table, set())}
        for position, value in enumerate(frame[ref.column], start=1):
            if value is not None and value is not pd.NA and value not in targets:
                violations.append(Violation(ref.column, str(value),
                                            f"must name a known {ref.table}.{ref.target}",
                                            table.name, position))
    return violations


def validate(raw: Mapping[str, pd.DataFrame], base: Dataset | None = None) -> Dataset:
    """Parse and check a submission (any mix of the four tables) against the contract.

    `base` is what the submission adds to (the current snapshot): its keys must stay
    unique and references may point into it. Returns the typed tables, or raises one
    InvalidArgument listing every violation.
    """
    violations = [Violation("table", name, f"unknown table; expected one of {sorted(TABLES)}")
                  for name in raw if name not in TABLES]
    typed: dict[str, pd.DataFrame] = {}
    for name, frame in raw.items():
        if name in TABLES:
            typed[name], found = _parse_frame(TABLES[name], frame)
            violations += found
    candidate = Dataset.from_tables(typed)
    known = {name: (base.keys(name) if base else set()) | candidate.keys(name) for name in TABLES}
    for name, frame in typed.items():
        table = TABLES[name]
        violations += _key_violations(table, frame, base.keys(name) if base else set())
        violations += _reference_violations(table, frame, known)
    if violations:
        raise InvalidArgument(violations)
    return candidate
