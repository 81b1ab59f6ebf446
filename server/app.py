"""Build and run the gRPC server (grpc's Python examples: `create_server` then `start`).

    health = new_health()                       # NOT_SERVING
    model = ServingModel(settings.home, on_change=lambda ready: set_serving(health, ready))
    server, port = create_server(settings, health, model=model)
    server.start()
    model.swap_to(version_id)                   # loaded and warmed, then SERVING
    server.stop(settings.grace_seconds).wait()  # drains in-flight calls

`serve` does the same in the foreground (choosing or fitting the version, server.startup)
and stops gracefully on SIGTERM / SIGINT — also during the first fit or the warm-up.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent import futures
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from cohort.errors import Conflict
from cohort.fit import use_compile_cache
from cohort.refit import RefitWorker
from cohort.v1 import cohort_service_pb2_grpc as pb_grpc
from server.interceptors import AuthInterceptor, DecodeInterceptor, LoggingInterceptor
from server.servicer import SERVICE, CohortServicer
from server.serving import ServingModel, WarmPlan
from server.settings import Settings, Tls
from server.startup import start_serving

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
                  refits: RefitWorker | None = None, model: ServingModel | None = None
                  ) -> tuple[grpc.Server, int]:
    """An unstarted server bound to `settings.address` (port 0 picks a free port) and the
    port it got. Pass `health_servicer` (from `new_health`) to flip it to SERVING later,
    `refits` to choose the refit defaults (else production ones: FitConfig(), the gate),
    and `model` to answer queries (else none is loaded: queries are UNAVAILABLE)."""
    limits = settings.limits
    interceptors: list[grpc.ServerInterceptor] = [LoggingInterceptor()]
    if settings.auth_enabled:
        interceptors.append(AuthInterceptor(settings.tokens))
    interceptors.append(DecodeInterceptor())  # innermost: auth refuses before it decodes
    server = grpc.server(
        # one thread per admitted call: grpc itself answers RESOURCE_EXHAUSTED beyond that
        futures.ThreadPoolExecutor(max_workers=limits.max_concurrent_rpcs,
                                   thread_name_prefix="cohort-rpc"),
        interceptors=interceptors,
        options=[("grpc.max_receive_message_length", limits.max_message_bytes),
                 ("grpc.max_send_message_length", limits.max_message_bytes),
                 # grpc sets SO_REUSEPORT by default on Linux: a second `cohort serve` on
                 # the same address would then bind too and silently share its traffic
                 ("grpc.so_reuseport", 0)],
        maximum_concurrent_rpcs=limits.max_concurrent_rpcs)
    pb_grpc.add_CohortServiceServicer_to_server(CohortServicer(settings.home, refits, model,
                                                               settings.limits), server)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer or new_health(), server)
    reflection.enable_server_reflection(
        (SERVICE.full_name, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        if settings.tls is None:
            port = server.add_insecure_port(settings.address)
        else:
            port = server.add_secure_port(settings.address, _credentials(settings.tls))
    except RuntimeError as error:  # grpc's only signal that the address cannot be bound
        raise Conflict(f"cannot listen on {settings.address}: {error} (is another server "
                       "already listening there?)") from error
    return server, port


class _Stop(Exception):
    """Raised by the signal handler while the server is still starting."""


def serve(settings: Settings) -> int:
    """Run until SIGTERM / SIGINT; returns the exit code (0). Listens at once (health
    NOT_SERVING), then loads — fitting a first version on a fresh home — and warms the
    model; health turns SERVING only then. A signal during that start interrupts it
    (versions are written atomically, so nothing partial is left loadable). On a signal
    health turns NOT_SERVING first (so load balancers stop routing), then in-flight calls
    get `grace_seconds` to finish."""
    started = time.perf_counter()
    use_compile_cache(settings.home.compile_cache)
    health_servicer = new_health()
    model = ServingModel(settings.home, WarmPlan(settings.warm_draw_counts),
                         on_change=lambda ready: set_serving(health_servicer, ready))
    refits = RefitWorker(settings.home, on_promoted=model.swap_to)
    server, port = create_server(settings, health_servicer, refits, model)
    server.start()
    host = settings.address.rpartition(":")[0]
    _LOG.info("listening on %s:%d (tls=%s, auth=%s); health NOT_SERVING until a model is "
              "loaded and warmed", host, port, settings.tls is not None, settings.auth_enabled)
    stop, starting = threading.Event(), threading.Event()
    starting.set()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        if starting.is_set():
            starting.clear()
            raise _Stop

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        if start_serving(settings, model):
            _LOG.info("SERVING %.1f s after start", time.perf_counter() - started)
        starting.clear()
        # a timed wait: the signal may land on one of grpc's or JAX's threads, and Python
        # runs its handler only when the main thread next executes bytecode
        while not stop.wait(0.5):
            pass
    except _Stop:
        _LOG.info("stopped while starting")
    finally:
        starting.clear()
        _LOG.info("shutting down: draining in-flight calls (up to %.0f s)",
                  settings.grace_seconds)
        set_serving(health_servicer, False)
        server.stop(settings.grace_seconds).wait()
        refits.close(settings.grace_seconds)  # a running refit ends FAILED (interrupted)
    return 0
