"""proto <-> domain conversion: pure functions, no I/O, no domain rules.

Row messages mirror the contract tables field for field (tests/test_proto.py checks it),
so a submission converts generically: one frame per table, one column per contract
column, an unset optional scalar becoming None (unknown), never 0. Validation then runs
exactly as for a CSV upload.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from cohort import RESEARCH_USE_NOTICE
from cohort.contract import TABLES
from cohort.errors import InvalidArgument, Violation
from cohort.operations import Operation, Phase
from cohort.refit import RefitRequest
from cohort.store import Receipt
from cohort.v1 import cohort_service_pb2 as pb
from cohort.versions import FAILED, READY, Version, VersionSummary
from server.errors import operation_error

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_PAGE_TOKEN = re.compile(r"v\d{8}T\d{6}Z-[0-9a-f]{8}")  # a version id, as versions.py names them
_STATUS = {READY: pb.MODEL_STATUS_READY, FAILED: pb.MODEL_STATUS_FAILED,
           "CORRUPT": pb.MODEL_STATUS_CORRUPT}
_PHASE = {phase: pb.OperationPhase.Value(f"OPERATION_PHASE_{phase.name}") for phase in Phase}


def _cell(row: Message, field: FieldDescriptor) -> Any:
    if field.has_presence and not row.HasField(field.name):
        return None
    return getattr(row, field.name)


def _frame(name: str, rows: Sequence[Message]) -> pd.DataFrame:
    fields = rows[0].DESCRIPTOR.fields_by_name
    # object dtype keeps ints as ints and None as None (no float/NaN coercion)
    return pd.DataFrame({column: pd.Series([_cell(row, fields[column]) for row in rows],
                                           dtype=object)
                         for column in TABLES[name].names})


def submission_tables(request: pb.SubmitTrialDataRequest) -> dict[str, pd.DataFrame]:
    """The request's rows as raw frames keyed by table name (tables without rows left out)."""
    return {name: _frame(name, getattr(request, name))
            for name in TABLES if len(getattr(request, name))}


def _value(field: FieldDescriptor, value: Any) -> Any:
    """A CSV text or Parquet cell as the field's type; ValueError when it is not one."""
    if field.type == FieldDescriptor.TYPE_STRING:
        return str(value)
    number = float(value)
    if field.type == FieldDescriptor.TYPE_DOUBLE:
        return number
    if not number.is_integer():
        raise ValueError(value)
    return int(number)


def submission_request(request_id: str, tables: Mapping[str, pd.DataFrame]
                       ) -> pb.SubmitTrialDataRequest:
    """Raw contract tables (as cohort.readers reads them) as one request: an empty or
    missing cell stays unset (unknown). Cells the request cannot carry (an unknown column,
    text in a numeric column) are one InvalidArgument naming table, row and column; every
    other rule is the server's to check."""
    request, bad = pb.SubmitTrialDataRequest(request_id=request_id), []
    for name, frame in tables.items():
        rows = getattr(request, name)
        fields = request.DESCRIPTOR.fields_by_name[name].message_type.fields_by_name
        bad += [Violation(column, "", "unknown column (not in the data contract)", name)
                for column in frame.columns if column not in fields]
        for number, record in enumerate(frame.to_dict("records"), start=1):
            row = rows.add()
            for column, value in record.items():
                if column not in fields or (not isinstance(value, str) and pd.isna(value)) \
                        or value == "":
                    continue
                try:
                    setattr(row, column, _value(fields[column], value))
                except (ValueError, TypeError, OverflowError):
                    bad.append(Violation(column, str(value), "must be a number of the "
                                         "column's kind", name, number))
    if bad:
        raise InvalidArgument(bad)
    return request


def timestamp(iso: str) -> Timestamp:
    """An ISO-8601 UTC time (with Z or +00:00) as a Timestamp."""
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(iso))
    return stamp


def submission_response(receipt: Receipt, model_version: str) -> pb.SubmitTrialDataResponse:
    entry, counts = receipt.entry, receipt.entry.row_counts
    return pb.SubmitTrialDataResponse(
        model_version=model_version, research_use_notice=RESEARCH_USE_NOTICE,
        submission_seq=entry.seq, sha256=entry.sha256, replayed=receipt.replayed,
        create_time=timestamp(entry.created_at),
        row_counts=pb.TableRowCounts(
            arm_count=counts["arms"], kinetic_stratum_count=counts["kinetic_strata"],
            patient_count=counts["patients"], patient_kinetics_count=counts["patient_kinetics"]))


def _number(value: Any) -> float:
    """JSON null (how the manifest stores NaN) back to NaN."""
    return math.nan if value is None else float(value)


def _code_version(code: Mapping[str, Any]) -> str:
    commit = code.get("git_commit")
    return f"{code.get('cohort', '')}+{commit[:12]}" if commit else str(code.get("cohort", ""))


def diagnostics_message(diagnostics: Mapping[str, Any], wall_seconds: float | None
                        ) -> pb.Diagnostics:
    """Diagnostics in their JSON form (a manifest's, or Diagnostics.to_dict())."""
    message = pb.Diagnostics(
        max_rhat=_number(diagnostics.get("max_rhat")),
        min_ess_bulk=_number(diagnostics.get("min_ess_bulk")),
        min_ess_tail=_number(diagnostics.get("min_ess_tail")),
        divergence_count=int(diagnostics.get("divergences") or 0),
        gate_passed=bool(diagnostics.get("passed")))
    if wall_seconds is not None:
        message.fit_wall_seconds = wall_seconds
    return message


def model_message(version: Version, serving: bool) -> pb.Model:
    """Every field of a verified version. `products`/`diseases` are read from the manifest
    when the fit recorded them (extra_manifest), else left empty."""
    m = version.manifest
    config = m.get("fit_config") or {}
    model = pb.Model(
        version_id=version.id, status=_STATUS[version.status], serving=serving,
        create_time=timestamp(m["created_at"]), snapshot_id=m.get("snapshot_hash") or "",
        diagnostics=diagnostics_message(m.get("diagnostics") or {},
                                        (m.get("timings") or {}).get("wall_s")),
        known_products=sorted(m.get("products") or ()),
        known_diseases=sorted(m.get("diseases") or ()),
        code_version=_code_version(m.get("code_version") or {}), seed=int(m.get("seed") or 0),
        chain_count=int(config.get("num_chains") or 0),
        warmup_count=int(config.get("num_warmup") or 0),
        draw_count=int(config.get("num_samples") or 0))
    if m.get("snapshot_position") is not None:
        model.snapshot_position = int(m["snapshot_position"])
    return model


def summary_message(summary: VersionSummary) -> pb.Model:
    """The basic view ListModels returns."""
    model = pb.Model(version_id=summary.id, status=_STATUS[summary.status],
                     serving=summary.serving, snapshot_id=summary.snapshot_hash or "",
                     diagnostics=pb.Diagnostics(gate_passed=bool(summary.passed_gate)),
                     problem=summary.problem or "")
    if summary.created_at:
        model.create_time.CopyFrom(timestamp(summary.created_at))
    return model


def page(summaries: Sequence[VersionSummary], page_size: int, page_token: str
         ) -> tuple[list[VersionSummary], str]:
    """Newest first, after `page_token` (the last id of the previous page: ids sort by
    creation time, so the page stays right when versions are added meanwhile)."""
    if page_size < 0:
        raise InvalidArgument([Violation("page_size", str(page_size), "must be >= 0")])
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    newest = sorted(summaries, key=lambda s: s.id, reverse=True)
    if page_token:
        if not _PAGE_TOKEN.fullmatch(page_token):
            raise InvalidArgument([Violation("page_token", page_token,
                                             "must be a next_page_token from ListModels")])
        newest = [s for s in newest if s.id < page_token]
    chosen = newest[:size]
    return chosen, chosen[-1].id if len(newest) > size else ""


def refit_request(request: pb.StartRefitRequest) -> RefitRequest:
    """Unset optionals become the domain's defaults (latest position, warm, promote)."""
    def present(name: str) -> Any:
        return getattr(request, name) if request.HasField(name) else None

    return RefitRequest(
        request_id=request.request_id, ledger_position=present("ledger_position"),
        warm_start=present("warm_start") is not False, seed=present("seed"),
        chain_count=request.chain_count, warmup_count=request.warmup_count,
        draw_count=request.draw_count, promote=present("promote") is not False)


def operation_message(operation: Operation) -> pb.Operation:
    message = pb.Operation(
        operation_id=operation.id, phase=_PHASE[operation.phase], done=operation.done,
        iteration=operation.iteration, total_iteration_count=operation.total,
        result_version_id=operation.version_id, promoted=operation.promoted,
        create_time=timestamp(operation.created_at), update_time=timestamp(operation.updated_at),
        snapshot_id=operation.snapshot_id)
    if operation.eta_seconds is not None:
        message.eta_seconds = operation.eta_seconds
    if operation.diagnostics is not None:
        message.diagnostics.CopyFrom(diagnostics_message(operation.diagnostics.to_dict(),
                                                         operation.fit_wall_seconds))
    if operation.error is not None:
        message.error.CopyFrom(operation_error(operation.error))
    return message
