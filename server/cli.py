"""The installed `cohort` script: the domain's commands (cohort.cli) plus `serve` and
`client`, which need gRPC and so live here — `cohort` never imports `server` or grpc.

    cohort serve [--address HOST:PORT] [--home DIR] ...     # see server.settings
    cohort client [--address ...] predict SPEC.json [--compare OTHER.json]
    cohort client submit FILE... --request-id ID
    cohort client models | promote VERSION | simulate SPEC.json --out X.parquet
    cohort client refit [--watch] | operation OPERATION_ID [--watch]

Client answers print with the same tables as `cohort predict` (cohort.cli.predict).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import grpc
from google.rpc import code_pb2

from cohort import RESEARCH_USE_NOTICE, cli
from cohort.cli.models import versions_table
from cohort.cli.predict import comparison_table, prediction_table, read_spec, write_patients
from cohort.engine import PatientBatch
from cohort.engine.summary import as_json
from cohort.readers import read_tables
from cohort.v1 import cohort_service_pb2 as pb
from cohort.versions import VersionSummary
from server.app import serve
from server.bench_serve import register_bench
from server.client import Answer, CohortClient, error_details
from server.settings import DEFAULT_ADDRESS, Settings, add_arguments

Run = Callable[[argparse.Namespace], int]
EXIT_GATE_FAILED = 3  # as `cohort fit`


def run_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_options(args)
    except ValueError as error:  # unusable flags: TLS files, token entries
        print(f"error: {error}", file=sys.stderr)
        return cli.EXIT_INVALID
    return serve(settings)


def _remote(run: Run) -> Run:
    """Print a failed call's status and field violations instead of a traceback."""
    @functools.wraps(run)
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except grpc.RpcError as error:
            details = error_details(error)
            print(f"error ({details.code.name}): {details.message}", file=sys.stderr)
            for field, description in details.field_violations:
                print(f"  {field}: {description}", file=sys.stderr)
            invalid = details.code is grpc.StatusCode.INVALID_ARGUMENT
            return cli.EXIT_INVALID if invalid else cli.EXIT_ERROR
    return wrapped


def _client(args: argparse.Namespace) -> CohortClient:
    def pem(path: str | None) -> bytes | None:
        return Path(path).read_bytes() if path else None

    return CohortClient(args.address, token=args.token, root_certificates=pem(args.ca),
                        private_key=pem(args.key), certificate_chain=pem(args.cert),
                        timeout_seconds=args.timeout)


def _show(args: argparse.Namespace, answer: Answer, text: str) -> None:
    if args.json:
        print(json.dumps({"model_version": answer.model_version, "notice": answer.notice,
                          "result": as_json(answer.value)}, indent=2))
    else:
        print(f"model version {answer.model_version}\n{text}\n\n{answer.notice}")


@_remote
def run_predict(args: argparse.Namespace) -> int:
    specs = [read_spec(path) for path in args.specs]
    with _client(args) as client:
        if args.compare:
            if len(specs) != 1:
                print("error: --compare takes exactly one SPEC", file=sys.stderr)
                return cli.EXIT_INVALID
            compared = client.compare(specs[0], read_spec(args.compare), args.version)
            _show(args, compared, f"A = {args.specs[0]}, B = {args.compare} (paired draws)\n"
                  + comparison_table(compared.value))
            return 0
        answer = client.predict(specs, args.version)
    _show(args, answer, "\n\n".join(
        f"{path}\n{prediction_table(p)}" for path, p in zip(args.specs, answer.value,
                                                             strict=True)))
    return 0


@_remote
def run_simulate(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    versions: set[str] = set()

    def batches(client: CohortClient) -> Iterator[PatientBatch]:
        for answer in client.stream_patients(spec, args.batch, args.version):
            versions.add(answer.model_version)
            yield answer.value

    with _client(args) as client:
        rows = write_patients(batches(client), spec.kinetic_unit, args.out)
    print(f"{rows} virtual patients ({spec.draw_count} draws × {spec.patient_count}) → "
          f"{args.out} (model version {', '.join(sorted(versions))})\n{RESEARCH_USE_NOTICE}")
    return 0


@_remote
def run_submit(args: argparse.Namespace) -> int:
    with _client(args) as client:
        reply = client.submit(args.request_id, read_tables(args.files))
    counts = reply.row_counts
    state = "already stored (same request id and payload)" if reply.replayed else "stored"
    print(f"{state}: submission {reply.submission_seq} request_id={args.request_id} "
          f"sha256={reply.sha256} rows: arms {counts.arm_count}, kinetic_strata "
          f"{counts.kinetic_stratum_count}, patients {counts.patient_count}, "
          f"patient_kinetics {counts.patient_kinetics_count}")
    return 0


def _summary(model: pb.Model) -> VersionSummary:
    created = model.create_time.ToDatetime().isoformat() if model.HasField("create_time") else None
    status = pb.ModelStatus.Name(model.status).removeprefix("MODEL_STATUS_")
    return VersionSummary(model.version_id, status, model.serving, created,
                          model.snapshot_id or None, model.diagnostics.gate_passed,
                          model.problem or None)


@_remote
def run_models(args: argparse.Namespace) -> int:
    with _client(args) as client:
        print(versions_table([_summary(m) for m in client.iter_models()]))
    return 0


@_remote
def run_promote(args: argparse.Namespace) -> int:
    with _client(args) as client:
        reply = client.set_serving_model(args.version)
    previous = reply.previous_version_id or "none"
    print(f"{reply.model_version} is now serving (was {previous})")
    return 0


def _operation_line(operation: pb.Operation) -> str:
    """One line per state: phase, progress, ETA, diagnostics and outcome as they appear."""
    phase = pb.OperationPhase.Name(operation.phase).removeprefix("OPERATION_PHASE_").lower()
    parts = [f"{operation.operation_id} {phase}"]
    if operation.total_iteration_count:
        parts.append(f"{operation.iteration}/{operation.total_iteration_count}")
    if operation.HasField("eta_seconds"):
        parts.append(f"about {operation.eta_seconds:.0f} s left")
    if operation.HasField("diagnostics"):
        d = operation.diagnostics
        parts.append(f"max R-hat {d.max_rhat:.4f}, min ESS bulk {d.min_ess_bulk:.0f} tail "
                     f"{d.min_ess_tail:.0f}, divergences {d.divergence_count}")
    if operation.result_version_id:
        parts.append(f"version {operation.result_version_id}"
                     + (" (promoted: now serving)" if operation.promoted else ""))
    if operation.HasField("error"):
        parts.append(f"error: {operation.error.message}")
    return "  ".join(parts)


def _follow(client: CohortClient, operation: pb.Operation, watch: bool) -> int:
    """Print the operation (every change until done with `watch`); 0 unless it failed, 3
    when the gate failed (as `cohort fit`)."""
    print(_operation_line(operation), flush=True)
    if watch and not operation.done:
        for message in client.watch_operation(operation.operation_id):
            operation = message.operation
            print(_operation_line(operation), flush=True)
    if operation.phase != pb.OPERATION_PHASE_FAILED:
        return 0
    return EXIT_GATE_FAILED if operation.error.code == code_pb2.FAILED_PRECONDITION else (
        cli.EXIT_ERROR)


@_remote
def run_refit(args: argparse.Namespace) -> int:
    with _client(args) as client:
        reply = client.start_refit(
            args.request_id, ledger_position=args.position, warm_start=not args.cold,
            seed=args.seed, chain_count=args.chains, warmup_count=args.warmup,
            draw_count=args.samples, promote=not args.no_promote)
        return _follow(client, reply.operation, args.watch)


@_remote
def run_operation(args: argparse.Namespace) -> int:
    with _client(args) as client:
        return _follow(client, client.get_operation(args.operation_id).operation, args.watch)


def register_serve(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "serve", help="run the gRPC server (fits a first model version on a fresh home)",
        description="Serve the cohort gRPC API. On a home without a READY model version it "
        "first fits one on the current snapshot, printing progress (health NOT_SERVING "
        "meanwhile); SERVING once a version is loaded and warmed. SIGTERM/SIGINT drain "
        "in-flight calls, then exit 0. " + RESEARCH_USE_NOTICE)
    add_arguments(p, os.environ)
    p.set_defaults(run=run_serve)


def register_client(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("client",
                                help="call a running server (predict, submit, models, refit)")
    group.add_argument("--address", default=os.environ.get("COHORT_ADDRESS", DEFAULT_ADDRESS),
                       help="server host:port (env COHORT_ADDRESS)")
    group.add_argument("--token", default=os.environ.get("COHORT_TOKEN"),
                       help="bearer token (env COHORT_TOKEN; the flag shows in process lists)")
    group.add_argument("--ca", help="CA certificate (PEM) of the server: enables TLS")
    group.add_argument("--cert", help="client certificate chain (PEM), for mTLS")
    group.add_argument("--key", help="client private key (PEM), for mTLS")
    group.add_argument("--timeout", type=float, default=60.0, help="seconds per call")
    sub = group.add_subparsers(dest="client_command", required=True, metavar="ACTION")
    p = sub.add_parser("predict", help="rates and counts for cohort specs (one call)")
    p.add_argument("specs", nargs="+", metavar="SPEC.json")
    p.add_argument("--compare", metavar="OTHER.json", help="paired contrast SPEC − OTHER")
    p.add_argument("--version", default="", help="model version id (default: the serving one)")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.set_defaults(run=run_predict)
    p = sub.add_parser("simulate", help="stream raw virtual patients → Parquet")
    p.add_argument("spec", metavar="SPEC.json")
    p.add_argument("--out", required=True, metavar="PATIENTS.parquet")
    p.add_argument("--version", default="", help="model version id (default: the serving one)")
    p.add_argument("--batch", type=int, default=0, help="patients per message (0: server's)")
    p.set_defaults(run=run_simulate)
    p = sub.add_parser("submit", help="submit trial data files (all or nothing, idempotent)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--request-id", required=True, help="idempotency key")
    p.set_defaults(run=run_submit)
    p = sub.add_parser("models", help="model versions, status and the serving mark")
    p.set_defaults(run=run_models)
    p = sub.add_parser("promote", help="serve a READY version (promote or roll back)")
    p.add_argument("version")
    p.set_defaults(run=run_promote)
    p = sub.add_parser(
        "refit", help="refit on the current data (one job at a time; --watch follows it)",
        description="Start a refit of the model on the server's current snapshot, warm-started "
        "from the serving version, or join the one running. A version that passes the gate "
        "is promoted unless --no-promote. Exit code 3 when the gate fails (with --watch).")
    p.add_argument("--watch", action="store_true", help="print every change until it is done")
    p.add_argument("--request-id", default="", help="idempotency key: a retry joins the same job")
    p.add_argument("--position", type=int, help="snapshot ledger position (default: latest)")
    p.add_argument("--seed", type=int, help="sampler seed (default 0)")
    p.add_argument("--chains", type=int, default=0, help="chains (default: the server's)")
    p.add_argument("--warmup", type=int, default=0, help="warm-up iterations per chain")
    p.add_argument("--samples", type=int, default=0, help="kept draws per chain")
    p.add_argument("--cold", action="store_true", help="do not warm-start")
    p.add_argument("--no-promote", action="store_true", help="keep the serving version")
    p.set_defaults(run=run_refit)
    p = sub.add_parser("operation", help="state of a refit operation (--watch follows it)")
    p.add_argument("operation_id")
    p.add_argument("--watch", action="store_true", help="print every change until it is done")
    p.set_defaults(run=run_operation)


# what the installed script adds to cohort.cli's commands
EXTRA: tuple[cli.Register, ...] = (register_serve, register_client, register_bench)


def build_parser() -> argparse.ArgumentParser:
    """The installed script's full parser (docs/CLI.md is generated from it)."""
    return cli.build_parser(EXTRA)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, extra=EXTRA)
