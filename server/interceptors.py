"""Server interceptors: bearer-token auth with roles, request logging, and decoding.

Auth covers the cohort service only; health checks and reflection stay open so that load
balancers and tooling work without a token. Tokens are compared with hmac.compare_digest
against every known token (no early exit) and never logged.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import grpc

from cohort.errors import InvalidArgument, Violation
from server.errors import status, to_status
from server.settings import Role

SERVICE_PREFIX = "/cohort.v1.CohortService/"
WRITE_METHODS = frozenset(f"{SERVICE_PREFIX}{name}" for name in
                          ("SubmitTrialData", "StartRefit", "SetServingModel"))
_LOG = logging.getLogger("server.requests")

Behavior = Callable[[Any, grpc.ServicerContext], Any]
Continuation = Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None]


def _rewrap(handler: grpc.RpcMethodHandler, around: Callable[[Behavior, bool], Behavior],
            deserializer: Callable[[bytes], Any] | None = None) -> grpc.RpcMethodHandler:
    """The same kind of handler with its behaviour replaced by `around(behaviour,
    response_streaming)` (and its request deserializer by `deserializer`, if given)."""
    kind = (f"{'stream' if handler.request_streaming else 'unary'}_"
            f"{'stream' if handler.response_streaming else 'unary'}")
    factory = getattr(grpc, f"{kind}_rpc_method_handler")
    return factory(around(getattr(handler, kind), handler.response_streaming),
                   request_deserializer=deserializer or handler.request_deserializer,
                   response_serializer=handler.response_serializer)


def _bearer(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value.removeprefix("Bearer ").strip()
    return None


def role_of(token: str | None, tokens: Mapping[str, Role]) -> Role | None:
    """The role of `token`, comparing against every known token in constant time each."""
    if not token:
        return None
    found: Role | None = None
    for known, role in tokens.items():
        if hmac.compare_digest(known.encode(), token.encode()):
            found = role
    return found


class AuthInterceptor(grpc.ServerInterceptor):
    """UNAUTHENTICATED without a valid token; PERMISSION_DENIED for a reader on a write RPC."""

    def __init__(self, tokens: Mapping[str, Role]):
        self._tokens = tokens

    def intercept_service(self, continuation: Continuation,
                          details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None or not details.method.startswith(SERVICE_PREFIX):
            return handler
        role = role_of(_bearer(details.invocation_metadata), self._tokens)
        if role is None:
            return _deny(handler, grpc.StatusCode.UNAUTHENTICATED,
                         "a valid bearer token is required (metadata authorization: Bearer …)")
        if details.method in WRITE_METHODS and role != "writer":
            return _deny(handler, grpc.StatusCode.PERMISSION_DENIED,
                         "this method needs a writer token")
        return handler


def _deny(handler: grpc.RpcMethodHandler, code: grpc.StatusCode,
          message: str) -> grpc.RpcMethodHandler:
    answer = status(code, message, code.name)

    def refuse(_behavior: Behavior, _streaming: bool) -> Behavior:
        def behavior(_request: Any, context: grpc.ServicerContext) -> Any:
            context.abort_with_status(answer)
        return behavior
    return _rewrap(handler, refuse)


class LoggingInterceptor(grpc.ServerInterceptor):
    """One line per RPC: method, final status code and latency (never metadata)."""

    def intercept_service(self, continuation: Continuation,
                          details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method

        def timed(behavior: Behavior, streaming: bool) -> Behavior:
            if streaming:
                def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                    start = time.perf_counter()
                    try:
                        yield from behavior(request, context)
                    finally:
                        _log(method, context, start)
                return stream

            def unary(request: Any, context: grpc.ServicerContext) -> Any:
                start = time.perf_counter()
                try:
                    return behavior(request, context)
                finally:
                    _log(method, context, start)
            return unary
        return _rewrap(handler, timed)


def _log(method: str, context: grpc.ServicerContext, start: float) -> None:
    code = context.code() or grpc.StatusCode.OK
    _LOG.info("%s %s %.1f ms", method, code.name, (time.perf_counter() - start) * 1e3)


class _Undecodable:
    """Stands for request bytes that are not a message of the method's request type."""


class DecodeInterceptor(grpc.ServerInterceptor):
    """Bytes that do not decode as the request message are INVALID_ARGUMENT naming
    `request` (through the one error mapping), instead of grpc's own INTERNAL
    "Exception deserializing request!": the client sent bad input, the server is fine."""

    def intercept_service(self, continuation: Continuation,
                          details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        decode, method = handler.request_deserializer, details.method

        def tolerant(data: bytes) -> Any:
            try:
                return decode(data)
            except Exception:  # noqa: BLE001 - any decoding failure is the client's input
                return _Undecodable()

        answer = to_status(InvalidArgument([Violation(
            "request", f"{method} request bytes", "not a valid encoding of the request message")]))

        def checked(behavior: Behavior, streaming: bool) -> Behavior:
            def unary(request: Any, context: grpc.ServicerContext) -> Any:
                if isinstance(request, _Undecodable):
                    context.abort_with_status(answer)
                return behavior(request, context)

            def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                if isinstance(request, _Undecodable):
                    context.abort_with_status(answer)
                yield from behavior(request, context)
            return stream if streaming else unary
        return _rewrap(handler, checked, tolerant)
