"""The one place where domain errors become gRPC statuses (DESIGN §7, §11).

Every RPC of the service runs under `guard_servicer`, so a domain error is answered with
its canonical code plus google.rpc details (ErrorInfo with the stable reason, BadRequest
listing every field violation), and anything unexpected with INTERNAL and a generic
message while the traceback goes to the server log only. No path ends in UNKNOWN.

Code choices:
- Conflict -> ALREADY_EXISTS, not ABORTED: a request id reused with another payload fails
  the same way however often it is retried, while ABORTED tells clients to retry.
- CorruptArtifact -> DATA_LOSS: stored state failed an integrity check. Its message names
  server paths, so the client gets a generic one and the log gets the detail.
- NotReady -> UNAVAILABLE: retryable once a model is loaded and warmed.
- LimitExceeded -> RESOURCE_EXHAUSTED with the same BadRequest details as INVALID_ARGUMENT:
  the request is well formed but beyond a configured limit (patients, draws, specs).
- GateFailed -> FAILED_PRECONDITION: the fit ran, its draws did not converge; retrying the
  same refit does not help, changing its settings or data may.
- IncompatibleVersion -> FAILED_PRECONDITION: the version was fitted by an earlier model
  revision; a refit (not a retry) makes one that can be served.
- Interrupted -> ABORTED: the refit's process stopped; starting it again is the fix.

A failed operation carries the same mapping in its `error` (`operation_error`).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from cohort.errors import (
    CohortError,
    Conflict,
    CorruptArtifact,
    GateFailed,
    IncompatibleVersion,
    Interrupted,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    NotReady,
    Violation,
)
from cohort.operations import Problem

DOMAIN = "cohort"
# Details travel in trailers: clients refuse metadata over 16 KiB (and, at random, some
# over 8 KiB), which would turn INVALID_ARGUMENT into a bare RESOURCE_EXHAUSTED.
MAX_FIELD_VIOLATIONS = 50
MAX_DETAILS_BYTES = 4096
MAX_VALUE_CHARS = 60
_LOG = logging.getLogger(__name__)
_CODES: tuple[tuple[type[CohortError], grpc.StatusCode], ...] = (
    (LimitExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),  # before its base class
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (NotReady, grpc.StatusCode.UNAVAILABLE),
    (Conflict, grpc.StatusCode.ALREADY_EXISTS),
    (CorruptArtifact, grpc.StatusCode.DATA_LOSS),
    (GateFailed, grpc.StatusCode.FAILED_PRECONDITION),
    (IncompatibleVersion, grpc.StatusCode.FAILED_PRECONDITION),
    (Interrupted, grpc.StatusCode.ABORTED),
)
_GENERIC = {
    grpc.StatusCode.DATA_LOSS: "stored state failed an integrity check; see the server log",
    grpc.StatusCode.INTERNAL: "internal error; see the server log",
}
T = TypeVar("T")


def field_path(violation: Violation) -> str:
    """The violation as a path into the request. A table is a repeated field of the
    request named like the table, and proto paths index from 0 (domain rows from 1)."""
    if violation.table is not None and violation.row is not None:
        return f"{violation.table}[{violation.row - 1}].{violation.field}"
    return violation.location


def status_proto(code: grpc.StatusCode, message: str, reason: str,
                 metadata: dict[str, str] | None = None, *details: Any) -> status_pb2.Status:
    """A google.rpc.Status carrying ErrorInfo(reason, domain="cohort") and any extra details."""
    proto = status_pb2.Status(code=getattr(code_pb2, code.name), message=message)
    for detail in (error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN,
                                               metadata=metadata or {}), *details):
        proto.details.add().Pack(detail)
    return proto


def status(code: grpc.StatusCode, message: str, reason: str,
           metadata: dict[str, str] | None = None, *details: Any) -> grpc.Status:
    """`status_proto` as a grpc.Status, ready for context.abort_with_status."""
    return rpc_status.to_status(status_proto(code, message, reason, metadata, *details))


def operation_error(problem: Problem) -> status_pb2.Status:
    """A failed operation's recorded problem, coded like the error it was raised as."""
    code = next((c for kind, c in _CODES if kind.reason == problem.reason),
                grpc.StatusCode.INTERNAL)
    return status_proto(code, _GENERIC.get(code, problem.message), problem.reason)


def _describe(violation: Violation) -> str:
    value = violation.value
    shown = value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "..."
    return f"{shown!r}: {violation.rule}"


def _bad_request(violations: Sequence[Violation]) -> error_details_pb2.BadRequest:
    """As many violations as fit the details budget, in order."""
    bad_request = error_details_pb2.BadRequest()
    for violation in violations[:MAX_FIELD_VIOLATIONS]:
        bad_request.field_violations.add(field=field_path(violation),
                                         description=_describe(violation))
        if bad_request.ByteSize() > MAX_DETAILS_BYTES:
            del bad_request.field_violations[-1]
            break
    return bad_request


def _invalid_argument(error: InvalidArgument, code: grpc.StatusCode) -> grpc.Status:
    bad_request = _bad_request(error.violations)
    total, listed = len(error.violations), len(bad_request.field_violations)
    more = f" (first {listed} listed)" if total > listed else ""
    first = "; ".join(f"{v.field} = {v.description}" for v in bad_request.field_violations[:3])
    what = ("value(s) beyond this server's limits" if isinstance(error, LimitExceeded)
            else "invalid value(s)")
    message = f"{total} {what}{more}: {first}" + ("; ..." if total > 3 else "")
    return status(code, message, error.reason, {"violation_count": str(total)}, bad_request)


def to_status(error: BaseException) -> grpc.Status:
    """The status for any exception raised while serving an RPC."""
    code = next((c for kind, c in _CODES if isinstance(error, kind)), grpc.StatusCode.INTERNAL)
    if isinstance(error, InvalidArgument):
        return _invalid_argument(error, code)
    reason = error.reason if isinstance(error, CohortError) else "INTERNAL"
    return status(code, _GENERIC.get(code, str(error)), reason)


def _abort(error: Exception, context: grpc.ServicerContext, method: str) -> None:
    """Abort the RPC for `error` (raises, as context.abort does)."""
    code = context.code()
    if code not in (None, grpc.StatusCode.OK):
        # the handler chose a code itself (the generated base class's UNIMPLEMENTED)
        context.abort(code, (context.details() or b"").decode(errors="replace"))
    answer = to_status(error)
    if answer.code is grpc.StatusCode.INTERNAL:
        _LOG.error("%s failed", method, exc_info=error)
    elif answer.code is grpc.StatusCode.DATA_LOSS:
        _LOG.error("%s: %s", method, error)
    context.abort_with_status(answer)


def _guard(method: Callable[..., Any], name: str, streaming: bool) -> Callable[..., Any]:
    if streaming:
        @functools.wraps(method)
        def stream(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from method(self, request, context)
            except Exception as error:  # noqa: BLE001 - every error must get a code
                _abort(error, context, name)
        return stream

    @functools.wraps(method)
    def unary(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except Exception as error:  # noqa: BLE001 - every error must get a code
            _abort(error, context, name)
    return unary


def guard_servicer(service: ServiceDescriptor) -> Callable[[type[T]], type[T]]:
    """Class decorator: wrap every RPC of `service` (implemented or inherited) so that
    errors reach the client as mapped statuses; streaming methods stay generators."""
    def decorate(cls: type[T]) -> type[T]:
        for rpc in service.methods:
            method = getattr(cls, rpc.name)
            if rpc.server_streaming and not inspect.isgeneratorfunction(method):
                method = _as_generator(method)
            setattr(cls, rpc.name, _guard(method, rpc.full_name, rpc.server_streaming))
        return cls
    return decorate


def _as_generator(method: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
    """A streaming method that raises before yielding (the base class's UNIMPLEMENTED)."""
    @functools.wraps(method)
    def generator(*args: Any) -> Iterator[Any]:
        yield from method(*args)
    return generator
