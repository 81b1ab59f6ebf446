"""Build and run the gRPC server (grpc's Python examples: `create_server` then `start`).

    health = new_health()                       # NOT_SERVING
    server, port = create_server(settings, health)
    server.start()
    ...load and warm the serving model...
    set_serving(health, True)                   # SERVING
    server.stop(settings.grace_seconds).wait()  # drains in-flight calls

`serve` does the same in the foreground and stops gracefully on SIGTERM / SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from cohort.refit import RefitWorker
from cohort.v1 import cohort_service_pb2_grpc as pb_grpc
from server.interceptors import AuthInterceptor, LoggingInterceptor
from server.servicer import SERVICE, CohortServicer
from server.settings import Settings, Tls

_LOG = logging.getLogger(__name__)


def new_health() -> health.HealthServicer:
    """A health service that says NOT_SERVING (overall and for the cohort service)."""
    servicer = health.HealthServicer()
    set_serving(servicer, False)
    return servicer


def set_serving(servicer: health.HealthServicer, serving: bool) -> None:
    """SERVING once a model is loaded and warmed; NOT_SERVING before, and while draining."""
    state = (health_pb2.HealthCheckResponse.SERVING if serving
             else health_pb2.HealthCheckResponse.NOT_SERVING)
    for name in ("", SERVICE.full_name):
        servicer.set(name, state)


def _credentials(tls: Tls) -> grpc.ServerCredentials:
    client_ca = tls.client_ca.read_bytes() if tls.client_ca else None
    return grpc.ssl_server_credentials(
        [(tls.key.read_bytes(), tls.cert.read_bytes())], root_certificates=client_ca,
        require_client_auth=client_ca is not None)


def create_server(settings: Settings, health_servicer: health.HealthServicer | None = None,
                  refits: RefitWorker | None = None) -> tuple[grpc.Server, int]:
    """An unstarted server bound to `settings.address` (port 0 picks a free port) and the
    port it got. Pass `health_servicer` (from `new_health`) to flip it to SERVING later, and
    `refits` to choose the refit defaults (else production ones: FitConfig(), the gate)."""
    limits = settings.limits
    interceptors: list[grpc.ServerInterceptor] = [LoggingInterceptor()]
    if settings.auth_enabled:
        interceptors.append(AuthInterceptor(settings.tokens))
    server = grpc.server(
        # one thread per admitted call: grpc itself answers RESOURCE_EXHAUSTED beyond that
        futures.ThreadPoolExecutor(max_workers=limits.max_concurrent_rpcs,
                                   thread_name_prefix="cohort-rpc"),
        interceptors=interceptors,
        options=[("grpc.max_receive_message_length", limits.max_message_bytes),
                 ("grpc.max_send_message_length", limits.max_message_bytes)],
        maximum_concurrent_rpcs=limits.max_concurrent_rpcs)
    pb_grpc.add_CohortServiceServicer_to_server(CohortServicer(settings.home, refits), server)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer or new_health(), server)
    reflection.enable_server_reflection(
        (SERVICE.full_name, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    if settings.tls is None:
        port = server.add_insecure_port(settings.address)
    else:
        port = server.add_secure_port(settings.address, _credentials(settings.tls))
    return server, port


def serve(settings: Settings, warm: Callable[[], None] | None = None) -> None:
    """Run until SIGTERM / SIGINT. `warm` loads and warms the serving model; health turns
    SERVING only after it returns. On a signal health turns NOT_SERVING first (so load
    balancers stop routing), then in-flight calls get `grace_seconds` to finish."""
    health_servicer = new_health()
    refits = RefitWorker(settings.home)
    server, port = create_server(settings, health_servicer, refits)
    server.start()
    _LOG.info("listening on port %d (tls=%s, auth=%s)", port, settings.tls is not None,
              settings.auth_enabled)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if warm is not None:
        warm()
        set_serving(health_servicer, True)
    stop.wait()
    set_serving(health_servicer, False)
    server.stop(settings.grace_seconds).wait()
    refits.close(settings.grace_seconds)  # a running refit ends FAILED (interrupted)
