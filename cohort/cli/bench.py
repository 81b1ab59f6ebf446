"""`cohort bench`: measure fit, predict, refit (and, with the server installed, serve and
start-up) on every device JAX sees; writes bench.json, bench.md and PNGs (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from cohort.bench import DEVICES, SUITES, ExternalSuite, Options, run_benchmark
from cohort.bench.plan import FIT_EXPERIMENTS
from cohort.errors import InvalidArgument, Violation
from cohort.home import Home


def _names(flag: str, text: str, allowed: tuple[str, ...]) -> tuple[list[str], list[Violation]]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [Violation(flag, n, f"must be one of {{{', '.join(allowed)}}}")
           for n in names if n not in allowed]
    if not names:
        bad.append(Violation(flag, text, f"name at least one of {{{', '.join(allowed)}}}"))
    return names, bad


def parse_options(args: argparse.Namespace) -> tuple[Options, list[str], list[str]]:
    """(options, suites, devices) from the flags; InvalidArgument naming every bad flag."""
    suites, bad_suites = _names("--suite", args.suite, SUITES)
    devices, bad_devices = _names("--devices", args.devices, DEVICES)
    problems = bad_suites + bad_devices
    if args.repeats is not None and args.repeats < 1:
        problems.append(Violation("--repeats", str(args.repeats), "must be an integer >= 1"))
    if not 0.0 <= args.ipd_share <= 1.0:
        problems.append(Violation("--ipd-share", str(args.ipd_share), "must be in [0, 1]"))
    experiments, bad_experiments = _names("--fit-experiments", args.fit_experiments,
                                          tuple(FIT_EXPERIMENTS))
    problems += bad_experiments
    patients: list[int] = []
    for text in (args.patients or "").split(","):
        if text.strip():
            if text.strip().isdigit() and int(text) >= 10:
                patients.append(int(text))
            else:
                problems.append(Violation("--patients", text.strip(), "must be an integer >= 10"))
    if args.fit_time_limit is not None and not args.fit_time_limit > 0:
        problems.append(Violation("--fit-time-limit", str(args.fit_time_limit),
                                  "must be a number of seconds > 0"))
    iterations = None
    if args.synthetic_iterations is not None:
        parts = [t.strip() for t in args.synthetic_iterations.split(",")]
        if len(parts) == 2 and all(t.isdigit() and int(t) >= 1 for t in parts):
            iterations = (int(parts[0]), int(parts[1]))
        else:
            problems.append(Violation("--synthetic-iterations", args.synthetic_iterations,
                                      "must be WARMUP,SAMPLES, two integers >= 1"))
    if problems:
        raise InvalidArgument(problems)
    return (Options(args.quick, args.repeats, args.ipd_share, tuple(experiments),
                    tuple(patients) or None, args.fit_time_limit, iterations), suites, devices)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_bench(args: argparse.Namespace, external: Mapping[str, ExternalSuite]) -> int:
    options, suites, devices = parse_options(args)
    out = Path(args.out)
    document = run_benchmark(options, suites, devices, out, Home.resolve(args.home), external,
                             _log)
    for name, record in document["suites"].items():
        print(f"{name:8s} {record['status']:8s} {record['seconds']:8.0f} s  {record['reason']}")
    for name, device in document["devices"].items():
        print(f"{name:8s} {device['status']}  {device.get('reason', '')}")
    print(f"wrote {out / 'bench.json'}, {out / 'bench.md'} and plots in {out}")
    failed = any(r["status"] == "failed" for r in document["suites"].values())
    return 1 if failed else 0


def register(commands: argparse._SubParsersAction,
             external: Mapping[str, ExternalSuite] = MappingProxyType({})) -> None:
    """Add `bench`; `external` adds suites implemented outside cohort (serve, startup)."""
    p = commands.add_parser(
        "bench", help="benchmark fit, predict, refit, serve and start-up on CPU and GPU",
        description="Measure every requested suite on every requested device JAX sees, side "
        "by side; a requested device that is missing is reported as such. Suites that need a "
        "model (predict, refit, serve, startup) use a copy of the home's serving version. "
        "Writes OUT/bench.json (schema: cohort/bench/schema.json), OUT/bench.md and PNGs. "
        "See docs/BENCHMARKS.md.")
    p.add_argument("--suite", default=",".join(SUITES),
                   help=f"comma-separated, from {{{','.join(SUITES)}}} (default: all)")
    p.add_argument("--devices", default=",".join(DEVICES),
                   help="comma-separated, from {cpu,gpu} (default: both)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, one run each: checks the pipeline, measures nothing")
    p.add_argument("--repeats", type=int, default=None,
                   help="runs per figure (default 3, or 1 with --quick)")
    p.add_argument("--ipd-share", type=float, default=0.2,
                   help="share of synthetic arms also given as individual patients")
    p.add_argument("--fit-experiments", default=",".join(FIT_EXPERIMENTS),
                   help="fit suite comparisons besides the bundled baseline, from "
                   f"{{{','.join(FIT_EXPERIMENTS)}}} (default: all)")
    p.add_argument("--patients", default=None, metavar="N,N",
                   help="synthetic data sizes of the fit suite (default 1000,10000,100000; "
                   "--quick: 200)")
    p.add_argument("--fit-time-limit", type=float, default=None, metavar="SECONDS",
                   help="stop a fit case that runs longer (checked every 10 iterations) and "
                   "report it failed with its speed and the time it would still need "
                   "(default: no limit)")
    p.add_argument("--synthetic-iterations", default=None, metavar="WARMUP,SAMPLES",
                   help="warm-up and sampling iterations per chain of the synthetic data-size "
                   "cases (default 300,300; --quick: 20,20); ESS/s is a rate, so fewer "
                   "samples do, but keep warm-up >= 150: shorter leaves large data with "
                   "an unadapted metric and deep trees (docs/BENCHMARKS.md)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(run=lambda args: run_bench(args, external))
