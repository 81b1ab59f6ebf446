"""`cohort data ...`: validate, ingest, list, snapshot and summarise trial data."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable

import pandas as pd

from cohort import RESEARCH_USE_NOTICE
from cohort.errors import Violation
from cohort.home import Home
from cohort.readers import read_tables
from cohort.snapshot import take_snapshot
from cohort.store import Store
from cohort.summary import render
from cohort.validation import validate


def violation_table(violations: Iterable[Violation]) -> str:
    """One left-aligned line per problem: table, row (1 = first data row), column, value, rule."""
    rows = [("table", "row", "column", "value", "rule")] + [
        (v.table or "-", "-" if v.row is None else str(v.row), v.field, v.value, v.rule)
        for v in violations]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True))
                     + "  " + row[4] for row in rows)


def _store(args: argparse.Namespace) -> Store:
    return Store.open(Home.resolve(args.home).store_path)


def run_validate(args: argparse.Namespace) -> int:
    with _store(args) as store:
        base = take_snapshot(store).dataset
    data = validate(read_tables(args.files), base=base)
    counts = ", ".join(f"{k} {v}" for k, v in data.row_counts().items() if v)
    print(f"ok: {counts} row(s) valid; sha256 {data.sha256}")
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    raw = read_tables(args.files)
    with _store(args) as store:
        receipt = store.submit(args.request_id, raw)
    counts = ", ".join(f"{k} {v}" for k, v in receipt.row_counts.items() if v)
    state = "already stored (same request id and payload)" if receipt.replayed else "stored"
    print(f"{state}: submission {receipt.seq} request_id={receipt.request_id} "
          f"sha256={receipt.sha256} rows: {counts}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        entries = store.ledger()
    if not entries:
        print("ledger is empty: only the bundled published arms are in the snapshot")
        return 0
    frame = pd.DataFrame([{
        "seq": e.seq, "request_id": e.request_id, "created_at": e.created_at,
        "sha256": e.sha256[:16], **{k: v for k, v in e.row_counts.items()}} for e in entries])
    print(frame.to_string(index=False))
    return 0


def run_snapshot(args: argparse.Namespace) -> int:
    with _store(args) as store:
        snapshot = take_snapshot(store, up_to=args.position)
    if args.export:
        snapshot.export(args.export)
    info = {"snapshot_id": snapshot.id, "position": snapshot.position,
            "row_counts": snapshot.row_counts()}
    print(json.dumps(info, indent=2) if args.json else
          f"snapshot {snapshot.id} at ledger position {snapshot.position}: "
          + ", ".join(f"{k} {v}" for k, v in snapshot.row_counts().items()))
    return 0


def run_summary(args: argparse.Namespace) -> int:
    with _store(args) as store:
        snapshot = take_snapshot(store)
    title = (f"cohort data summary — snapshot {snapshot.id[:16]} (bundled published arms "
             f"+ {snapshot.position} submission(s))")
    print(render(snapshot.dataset, title))
    print(f"\n{RESEARCH_USE_NOTICE}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser(
        "data", help="validate, ingest and inspect trial data",
        description="Trial data in the data contract (arms, kinetic_strata, patients, "
        "patient_kinetics as CSV or Parquet; a file's table is told by its name, e.g. "
        "arms.csv or mytrial_patients.parquet, or by its columns).")
    sub = group.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    p = sub.add_parser("validate", help="check files against the contract; lists every problem",
                       description="Check files against the data contract and the current "
                       "snapshot (unique ids, known arms). Prints every bad cell (table, row, "
                       "column, value, rule) and exits 2 if there is any; stores nothing.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(run=run_validate)

    p = sub.add_parser("ingest", help="validate and store a submission (all or nothing)",
                       description="Validate files and store them as one submission, all or "
                       "nothing. Re-sending the same request id with the same data returns "
                       "the original receipt; with different data it is refused.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--request-id", required=True,
                   help="client-chosen id that makes retries safe (e.g. trial + data cut)")
    p.set_defaults(run=run_ingest)

    p = sub.add_parser("list", help="show the ingest ledger",
                       description="Show the append-only ingest ledger: position, request id, "
                       "time (UTC), payload sha256 and row counts per table.")
    p.set_defaults(run=run_list)

    p = sub.add_parser("snapshot", help="print the snapshot id and row counts",
                       description="The immutable snapshot a fit reads: bundled arms plus "
                       "accepted submissions up to a ledger position, identified by the "
                       "sha256 of its content.")
    p.add_argument("--position", type=int, default=None,
                   help="ledger position to stop at (default: latest)")
    p.add_argument("--export", metavar="DIR", help="write model-ready tables (CSV) to DIR")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_snapshot)

    p = sub.add_parser("summary", help="overview of the current snapshot (endpoints, classes)",
                       description="Summarise the current snapshot: rows, endpoints with "
                       "crude pooled rates, arms by product class and disease, unknown inputs.")
    p.set_defaults(run=run_summary)
