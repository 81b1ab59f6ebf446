"""Server settings from flags and environment, read once at start (DESIGN §7, §9).

Flags win over environment variables, which win over defaults. Auth tokens come from a
file (`--tokens-file` / COHORT_TOKENS_FILE) and/or COHORT_TOKENS; both use the format
`role:token` separated by newlines, commas or spaces, `#` starting a comment, role
`reader` (queries, listing) or `writer` (also submit, refit, promote). No tokens = auth
off. Tokens are kept out of repr() so that logging the settings never leaks one.

`--fit-*` choose the fit a fresh home gets at first start (the production FitConfig by
default; tests pass a tiny one). A first fit that fails the gate is not served unless
`--serve-failed-fit` says so explicitly (DESIGN §5: FAILED is never served automatically).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from cohort import spec
from cohort.fit import FitConfig, check_config
from cohort.home import Home

Role = Literal["reader", "writer"]
ROLES: tuple[Role, ...] = ("reader", "writer")
DEFAULT_ADDRESS = "127.0.0.1:50051"


@dataclass(frozen=True)
class Limits:
    """Request limits; an RPC beyond one is refused before any work is done."""

    max_message_bytes: int = 16 * 1024 * 1024  # a submission of ~10^5 patient rows fits
    max_patient_count: int = spec.MAX_PATIENTS
    max_draw_count: int = spec.MAX_DRAWS
    max_concurrent_rpcs: int = 64  # beyond this grpc answers RESOURCE_EXHAUSTED
    max_spec_count: int = 256  # specs per PredictCohort (a sweep's points)


@dataclass(frozen=True)
class Tls:
    """PEM files. With `client_ca` the server requires client certificates (mTLS)."""

    cert: Path
    key: Path
    client_ca: Path | None = None


@dataclass(frozen=True)
class Settings:
    home: Home
    address: str = DEFAULT_ADDRESS
    tokens: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    tls: Tls | None = None
    limits: Limits = Limits()
    grace_seconds: float = 10.0  # graceful shutdown: how long in-flight calls may finish
    first_fit: FitConfig = FitConfig()  # fit of a home without a READY version at start
    serve_failed_fit: bool = False  # serve that fit even if it fails the gate (unpromoted)
    warm_draw_counts: tuple[int, ...] | None = None  # None: every compiled draw bucket

    @property
    def auth_enabled(self) -> bool:
        return bool(self.tokens)

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None,
                  env: Mapping[str, str] | None = None) -> Settings:
        """Settings from command-line flags over environment variables over defaults."""
        env = os.environ if env is None else env
        parser = argparse.ArgumentParser(prog="python -m server", description="cohort gRPC server")
        add_arguments(parser, env)
        return cls.from_options(parser.parse_args(argv), env)

    @classmethod
    def from_options(cls, options: argparse.Namespace,
                     env: Mapping[str, str] | None = None) -> Settings:
        """Settings from a namespace parsed with `add_arguments` (`home` may come from a
        parent parser, e.g. `cohort --home DIR serve`)."""
        env = os.environ if env is None else env
        tokens = parse_tokens(env.get("COHORT_TOKENS", ""))
        if options.tokens_file:
            tokens |= parse_tokens(Path(options.tokens_file).read_text())
        tls = None
        if options.tls_cert or options.tls_key:
            if not (options.tls_cert and options.tls_key):
                raise ValueError("TLS needs both --tls-cert and --tls-key")
            tls = Tls(Path(options.tls_cert), Path(options.tls_key),
                      Path(options.tls_client_ca) if options.tls_client_ca else None)
        elif options.tls_client_ca:
            raise ValueError("--tls-client-ca (mTLS) needs --tls-cert and --tls-key")
        limits = Limits(options.max_message_bytes, options.max_patient_count,
                        options.max_draw_count, options.max_concurrent_rpcs,
                        options.max_spec_count)
        first_fit = check_config(FitConfig(num_chains=options.fit_chains,
                                           num_warmup=options.fit_warmup,
                                           num_samples=options.fit_samples, seed=options.fit_seed))
        warm = (tuple(int(n) for n in options.warm_draw_counts.split(","))
                if options.warm_draw_counts else None)
        return cls(Home.resolve(getattr(options, "home", None)), options.address,
                   MappingProxyType(tokens), tls, limits, options.grace_seconds, first_fit,
                   options.serve_failed_fit, warm)


def parse_tokens(text: str) -> dict[str, Role]:
    """`role:token` entries; ValueError naming the entry (never the token) when malformed."""
    tokens: dict[str, Role] = {}
    lines = (line.split("#", 1)[0] for line in text.splitlines())
    for number, entry in enumerate((e for line in lines for e in re.split(r"[\s,]+", line) if e),
                                   start=1):
        role, _, token = entry.partition(":")
        if role not in ROLES or not token:
            raise ValueError(f"token entry {number}: expected reader:TOKEN or writer:TOKEN")
        tokens[token] = role  # type: ignore[assignment]  # checked against ROLES above
    return tokens


def add_arguments(parser: argparse.ArgumentParser, env: Mapping[str, str]) -> None:
    """The server's flags, each defaulting to its environment variable."""
    limits, fit = Limits(), FitConfig()

    def flag(name: str, variable: str, default: object = None, kind: type = str,
             doc: str = "") -> None:
        value = env.get(variable)
        parser.add_argument(name, type=kind, default=kind(value) if value else default,
                            help=f"{doc} (env {variable})")

    flag("--address", "COHORT_ADDRESS", DEFAULT_ADDRESS, doc="host:port to listen on; port 0 = any")
    # no default: `cohort --home DIR serve` sets it on the parent parser, and Home.resolve
    # reads COHORT_HOME when neither does
    parser.add_argument("--home", default=argparse.SUPPRESS,
                        help="state directory (default $COHORT_HOME, else ~/.cohort)")
    flag("--tokens-file", "COHORT_TOKENS_FILE", doc="file of role:token lines")
    flag("--tls-cert", "COHORT_TLS_CERT", doc="server certificate chain (PEM)")
    flag("--tls-key", "COHORT_TLS_KEY", doc="server private key (PEM)")
    flag("--tls-client-ca", "COHORT_TLS_CLIENT_CA", doc="CA of client certificates: enables mTLS")
    flag("--max-message-bytes", "COHORT_MAX_MESSAGE_BYTES", limits.max_message_bytes, int)
    flag("--max-patient-count", "COHORT_MAX_PATIENT_COUNT", limits.max_patient_count, int)
    flag("--max-draw-count", "COHORT_MAX_DRAW_COUNT", limits.max_draw_count, int)
    flag("--max-concurrent-rpcs", "COHORT_MAX_CONCURRENT_RPCS", limits.max_concurrent_rpcs, int)
    flag("--max-spec-count", "COHORT_MAX_SPEC_COUNT", limits.max_spec_count, int,
         doc="specs per PredictCohort")
    flag("--grace-seconds", "COHORT_GRACE_SECONDS", 10.0, float,
         doc="graceful shutdown: seconds in-flight calls may finish")
    flag("--fit-chains", "COHORT_FIT_CHAINS", fit.num_chains, int,
         doc="first start on a home without a READY version: sampler chains")
    flag("--fit-warmup", "COHORT_FIT_WARMUP", fit.num_warmup, int,
         doc="first start: warm-up iterations per chain")
    flag("--fit-samples", "COHORT_FIT_SAMPLES", fit.num_samples, int,
         doc="first start: kept draws per chain")
    flag("--fit-seed", "COHORT_FIT_SEED", fit.seed, int, doc="first start: sampler seed")
    parser.add_argument(
        "--serve-failed-fit", action="store_true",
        default=env.get("COHORT_SERVE_FAILED_FIT", "") not in ("", "0", "false"),
        help="first start: serve the fitted version even if it fails the diagnostics gate "
        "(it is not promoted; answers name it) (env COHORT_SERVE_FAILED_FIT=1)")
    flag("--warm-draw-counts", "COHORT_WARM_DRAW_COUNTS",
         doc="comma-separated draw counts whose compiled shapes are warmed before SERVING "
         "(default: every shape; fewer start faster, and other sizes compile on first use)")
