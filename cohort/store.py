"""The embedded submission store: SQLite (WAL, synchronous=FULL) with an append-only ledger.

A submission is validated against the current snapshot (bundled data + every accepted
submission) and stored all-or-nothing in one `BEGIN IMMEDIATE` transaction, so concurrent
writers (threads or processes) serialise and each validates against the latest state.
Its canonical JSON is kept zlib-compressed next to a ledger row holding its sha256, which
is checked whenever the payload is read back.

Request ids make submission idempotent: the same id with the same canonical payload
returns the original ledger entry; with a different payload it is a Conflict.
The ledger is append-only: the code has no UPDATE/DELETE path and triggers refuse both.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from cohort.bundled import bundled_dataset
from cohort.contract import TABLES
from cohort.dataset import Dataset
from cohort.errors import Conflict, CorruptArtifact, InvalidArgument, NotFound, Violation
from cohort.validation import validate

Records = dict[str, list[dict[str, Any]]]  # Dataset.to_records() form

SCHEMA_VERSION = 1
MAX_REQUEST_ID = 128
_CORRUPTION = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
_COUNT_COLUMNS = {name: f"n_{name}" for name in TABLES}
_ENTRY_COLUMNS = "seq, request_id, sha256, created_at, " + ", ".join(_COUNT_COLUMNS.values())
# LEFT JOIN: a ledger row whose payload went missing must be reported, not skipped
_PAYLOADS = "SELECT l.seq, l.sha256, p.body FROM ledger AS l LEFT JOIN payloads AS p USING (seq)"
_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS ledger (
        seq INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        created_at TEXT NOT NULL,
        {", ".join(f"{c} INTEGER NOT NULL CHECK ({c} >= 0)" for c in _COUNT_COLUMNS.values())})""",
    # body = zlib(canonical JSON); ledger.sha256 is the hash of the decompressed bytes
    """CREATE TABLE IF NOT EXISTS payloads (
        seq INTEGER PRIMARY KEY REFERENCES ledger (seq),
        body BLOB NOT NULL)""",
    *(f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table}
          BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
      for table in ("ledger", "payloads") for verb in ("UPDATE", "DELETE")),
)


@dataclass(frozen=True)
class LedgerEntry:
    """One accepted submission: its position, request id, payload hash, time and sizes."""

    seq: int
    request_id: str
    sha256: str
    created_at: str  # UTC ISO-8601, e.g. 2026-05-09T07:35:25.123456Z
    row_counts: dict[str, int] = field(hash=False)


@dataclass(frozen=True)
class Receipt(LedgerEntry):
    """What `submit` answers: the ledger entry, the same for every repeat of one request id,
    plus `replayed` (this call found it already stored), the only field that can differ."""

    replayed: bool = False

    @property
    def entry(self) -> LedgerEntry:
        return LedgerEntry(**{f.name: getattr(self, f.name) for f in fields(LedgerEntry)})


def check_request_id(request_id: object) -> str:
    """The id when usable (non-empty, <= 128 printable characters), else InvalidArgument."""
    if not isinstance(request_id, str):
        problem = "must be a string"
    elif not request_id.strip():
        problem = "required (empty is not allowed)"
    elif len(request_id) > MAX_REQUEST_ID:
        problem = f"must be at most {MAX_REQUEST_ID} characters (got {len(request_id)})"
    elif not request_id.isprintable():
        problem = "must contain printable characters only"
    else:
        return request_id
    shown = str(request_id)
    shown = shown if len(shown) <= 40 else shown[:40] + "..."
    raise InvalidArgument([Violation("request_id", shown, problem)])


def _require_rows(data: Dataset) -> None:
    """An empty submission would be a ledger entry that changes nothing: refuse it."""
    if not any(data.row_counts().values()):
        raise InvalidArgument([Violation("tables", "", "a submission needs at least one row")])


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    seq, request_id, sha256, created_at, *counts = row
    return LedgerEntry(seq, request_id, sha256, created_at, dict(zip(TABLES, counts, strict=True)))


def _decode(seq: int, sha256: str, body: bytes | None) -> Records:
    """A stored payload's records, refusing one whose bytes no longer match the ledger."""
    if body is None:
        raise CorruptArtifact(f"submission {seq}: payload is missing")
    try:
        canonical = zlib.decompress(body)
    except zlib.error as error:
        raise CorruptArtifact(f"submission {seq}: payload does not decompress ({error})") from None
    if hashlib.sha256(canonical).hexdigest() != sha256:
        raise CorruptArtifact(f"submission {seq}: payload does not match its sha256")
    return json.loads(canonical)


def _merge(parts: Iterable[Records]) -> Dataset:
    """One Dataset from many payloads: building frames once is far cheaper than per part."""
    merged: Records = {}
    for part in parts:
        for name, rows in part.items():
            merged.setdefault(name, []).extend(rows)
    return Dataset.from_records(merged)


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a commit is on disk before submit returns
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("BEGIN IMMEDIATE")  # one process creates the schema, the others wait
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise CorruptArtifact(f"{path}: store schema {version} is newer than this cohort's "
                              f"({SCHEMA_VERSION})")
    for statement in _SCHEMA:
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    conn.execute("COMMIT")


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    try:
        _prepare(conn, path)
    except BaseException as error:
        conn.close()
        # a damaged or foreign file is a CorruptArtifact; locked or I/O errors stay as they are
        if getattr(error, "sqlite_errorcode", None) in _CORRUPTION:
            raise CorruptArtifact(f"{path}: not a usable cohort store ({error})") from None
        raise
    return conn


class Store:
    """One SQLite connection, shared by threads under a lock (writers in other processes
    are serialised by SQLite itself). Use `Store.open(path)` as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        # (position, submissions up to it): the ledger is append-only, so a prefix read
        # once stays true forever and the next read only decodes what came after it.
        self._cache: tuple[int, Dataset] = (0, Dataset.from_tables({}))

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating if needed) the store at `path`; CorruptArtifact if it is not one."""
        path = Path(path)
        return cls(path, _connect(path))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def submit(self, request_id: str, raw: Mapping[str, pd.DataFrame]) -> Receipt:
        """Validate `raw` (any mix of the four tables) against the current snapshot and store
        it all-or-nothing; InvalidArgument lists every violation. A repeated id answers the
        original entry when the canonical payload is the same, else raises Conflict."""
        check_request_id(request_id)
        with self._write() as conn:
            prior = self._find(conn, request_id)
            if prior is not None:
                return self._replay(conn, prior, raw)
            data = self._validate(conn, raw, self._position(conn))
            _require_rows(data)
            return Receipt(**vars(self._append(conn, request_id, data)))

    def ledger(self) -> list[LedgerEntry]:
        """Every accepted submission, oldest first."""
        with self._lock:
            rows = self._conn.execute(f"SELECT {_ENTRY_COLUMNS} FROM ledger ORDER BY seq")
            return [_entry(row) for row in rows]

    def position(self) -> int:
        """The latest ledger position (0 when nothing was submitted)."""
        with self._lock:
            return self._position(self._conn)

    def dataset(self, up_to: int | None = None) -> Dataset:
        """The accepted submissions (not the bundled data) up to and including position
        `up_to` (default: the latest). InvalidArgument for a negative or non-integer
        position, NotFound for one the ledger has not reached."""
        if up_to is not None and (type(up_to) is not int or up_to < 0):
            raise InvalidArgument([Violation("up_to", str(up_to), "must be an integer >= 0")])
        with self._lock:
            latest = self._position(self._conn)
            if up_to is not None and up_to > latest:
                raise NotFound(f"ledger position {up_to} does not exist (latest is {latest})")
            return self._submissions(self._conn, latest if up_to is None else up_to)

    def verify(self) -> list[str]:
        """Recompute the sha256 of every stored payload; one line per missing, unreadable or
        altered payload (empty when all are intact)."""
        with self._lock:
            rows = self._conn.execute(f"{_PAYLOADS} ORDER BY l.seq").fetchall()
        problems = []
        for row in rows:
            try:
                _decode(*row)
            except CorruptArtifact as error:
                problems.append(str(error))
        return problems

    def integrity_check(self) -> str:
        """SQLite's own `PRAGMA integrity_check`: 'ok' when the file is sound."""
        with self._lock:
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(row[0] for row in rows)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken before anything is read."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _validate(self, conn: sqlite3.Connection, raw: Mapping[str, pd.DataFrame],
                  position: int) -> Dataset:
        base = Dataset.concat([bundled_dataset(), self._submissions(conn, position)])
        return validate(raw, base=base)

    def _replay(self, conn: sqlite3.Connection, prior: LedgerEntry,
                raw: Mapping[str, pd.DataFrame]) -> Receipt:
        """The original entry when `raw` is its payload, judged against the state it was
        validated against; a payload that is invalid there cannot be the original."""
        try:
            same = self._validate(conn, raw, prior.seq - 1).sha256 == prior.sha256
        except InvalidArgument:
            same = False
        if not same:
            raise Conflict(f"request id {prior.request_id!r} was already used for a different "
                           f"payload (submission {prior.seq})")
        return Receipt(**vars(prior), replayed=True)

    @staticmethod
    def _position(conn: sqlite3.Connection) -> int:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM ledger").fetchone()[0]

    @staticmethod
    def _find(conn: sqlite3.Connection, request_id: str) -> LedgerEntry | None:
        row = conn.execute(f"SELECT {_ENTRY_COLUMNS} FROM ledger WHERE request_id = ?",
                           (request_id,)).fetchone()
        return None if row is None else _entry(row)

    def _submissions(self, conn: sqlite3.Connection, up_to: int) -> Dataset:
        start, known = self._cache if self._cache[0] <= up_to else (0, Dataset.from_tables({}))
        rows = conn.execute(
            f"{_PAYLOADS} WHERE l.seq > ? AND l.seq <= ? ORDER BY l.seq", (start, up_to))
        data = Dataset.concat([known, _merge(_decode(*row) for row in rows)])
        if up_to > self._cache[0]:
            self._cache = (up_to, data)
        return data

    @staticmethod
    def _append(conn: sqlite3.Connection, request_id: str, data: Dataset) -> LedgerEntry:
        canonical = data.canonical_json()
        entry = LedgerEntry(0, request_id, hashlib.sha256(canonical).hexdigest(), _utc_now(),
                            data.row_counts())
        cursor = conn.execute(
            f"INSERT INTO ledger ({_ENTRY_COLUMNS.removeprefix('seq, ')}) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?)",
            (entry.request_id, entry.sha256, entry.created_at, *entry.row_counts.values()))
        conn.execute("INSERT INTO payloads (seq, body) VALUES (?, ?)",
                     (cursor.lastrowid, zlib.compress(canonical)))
        return replace(entry, seq=cursor.lastrowid)
