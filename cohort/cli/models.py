"""`cohort fit` and `cohort models ...`: fit a snapshot, inspect and promote versions."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

import pandas as pd

from cohort.fit import FitConfig, FitResult, Progress, check_config, use_compile_cache
from cohort.home import Home
from cohort.operations import fit_lock
from cohort.report import forest_plot, main_effects
from cohort.snapshot import Snapshot
from cohort.versions import Version, VersionSummary, list_versions, set_serving
from cohort.workflow import current_snapshot, fit_snapshot, load_fitted, resolve_version


class ProgressPrinter:
    """One line per progress event on stderr, rewritten in place on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.started = time.perf_counter()

    def __call__(self, p: Progress) -> None:
        eta = "" if p.eta_seconds is None else f", about {p.eta_seconds:.0f} s left"
        line = (f"{p.phase:8s} {p.iteration:5d}/{p.total} "
                f"[{time.perf_counter() - self.started:6.1f} s{eta}]")
        print(f"\r{line}" if self.tty else line, end="" if self.tty else "\n",
              file=sys.stderr, flush=True)


def fit_plan(snapshot: Snapshot, config: FitConfig) -> str:
    """What a fit is about to do, in one line."""
    rows = ", ".join(f"{k} {v}" for k, v in snapshot.row_counts().items() if v)
    return (f"fitting snapshot {snapshot.short_id} ({rows}): {config.num_chains} chains × "
            f"{config.num_warmup} warm-up + {config.num_samples} draws")


def fit_report(version: Version, result: FitResult) -> str:
    """The version a fit wrote, its diagnostics and every reason the gate failed."""
    d = result.diagnostics
    lines = [f"version {version.id}: {version.status}  wall {result.timings.wall_s:.1f} s "
             f"(compile {result.timings.compile_s:.1f} s)  max R-hat {d.max_rhat:.4f}  "
             f"min ESS bulk {d.min_ess_bulk:.0f} tail {d.min_ess_tail:.0f}  "
             f"divergences {d.divergences}"]
    return "\n".join(lines + [f"  gate: {reason}" for reason in d.reasons])


def run_fit(args: argparse.Namespace) -> int:
    config = check_config(FitConfig(num_chains=args.chains, num_warmup=args.warmup,
                                    num_samples=args.samples, seed=args.seed,
                                    warm_start_warmup=args.warm_start_warmup))
    home = Home.resolve(args.home)
    use_compile_cache(home.compile_cache)
    snapshot = current_snapshot(home, args.position)
    # a fit that may promote holds the home's fit lock: it never races a server's refit
    with nullcontext() if args.no_promote else fit_lock(home.operations_dir):
        print(fit_plan(snapshot, config), file=sys.stderr)
        version, result = fit_snapshot(home, snapshot, config, ProgressPrinter(),
                                       args.init_from)
        print(f"\n{fit_report(version, result)}")
        if result.warm_start_note:
            print(f"  warm start: {result.warm_start_note}")
        if version.status == "READY" and not args.no_promote:
            set_serving(home.models_dir, version.id)
            print(f"  promoted: {version.id} is now serving")
    return 0 if version.status == "READY" else 3


def _num(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def versions_table(versions: Sequence[VersionSummary]) -> str:
    """One row per version: status, the serving mark, creation time, snapshot, problem."""
    if not versions:
        return "no model versions yet: run `cohort fit`"
    return pd.DataFrame([{
        "version": v.id, "status": v.status, "serving": "*" if v.serving else "",
        "created_at": v.created_at, "snapshot": (v.snapshot_hash or "")[:12],
        "problem": v.problem or ""} for v in versions]).to_string(index=False)


def run_list(args: argparse.Namespace) -> int:
    print(versions_table(list_versions(Home.resolve(args.home).models_dir)))
    return 0


def run_show(args: argparse.Namespace) -> int:
    home = Home.resolve(args.home)
    fitted = load_fitted(home, args.version)
    manifest = fitted.version.manifest
    d = manifest["diagnostics"]
    print(f"version {fitted.version.id}  status {manifest['status']}  snapshot "
          f"{manifest['snapshot_hash'][:12]}  seed {manifest['seed']}")
    print(f"diagnostics: max R-hat {_num(d['max_rhat'], 4)}  min ESS bulk "
          f"{_num(d['min_ess_bulk'], 0)}  tail {_num(d['min_ess_tail'], 0)}  divergences "
          f"{d['divergences']}  gate {'passed' if d['passed'] else 'FAILED'}")
    for w in d["worst"]:
        print(f"  worst: {w['name']:24s} R-hat {_num(w['rhat'], 4)}  ESS bulk "
              f"{_num(w['ess_bulk'], 0)}  tail {_num(w['ess_tail'], 0)}")
    effects = main_effects(fitted.idata, fitted.data.index)
    print("\nMain effects (posterior mean, sd, 95% interval):")
    print(effects.to_string(index=False, float_format=lambda x: f"{x:7.3f}"))
    plot = Path(args.plot or f"forest-{fitted.version.id}.png")
    forest_plot(effects, plot, f"cohort {fitted.version.id}")
    print(f"\nforest plot: {plot}")
    return 0


def run_promote(args: argparse.Namespace) -> int:
    home = Home.resolve(args.home)
    version = set_serving(home.models_dir, resolve_version(home, args.version))
    print(f"{version.id} is now serving")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "fit", help="fit the model on the current snapshot → a model version",
        description="Fit the joint model with NUTS on the current snapshot (bundled arms + "
        "accepted submissions). Writes a version (posterior NetCDF + manifest) that is "
        "READY when the gate passes (R-hat < 1.01, bulk/tail ESS >= 400, no divergences), "
        "else FAILED; a READY version is promoted to serving unless --no-promote. "
        "Exit code 3 when the gate fails.")
    defaults = FitConfig()
    p.add_argument("--chains", type=int, default=defaults.num_chains)
    p.add_argument("--warmup", type=int, default=defaults.num_warmup,
                   help="warm-up iterations per chain")
    p.add_argument("--samples", type=int, default=defaults.num_samples,
                   help="kept draws per chain")
    p.add_argument("--seed", type=int, default=defaults.seed, help="random seed of the chains")
    p.add_argument("--position", type=int, default=None, help="snapshot ledger position")
    p.add_argument("--init-from", metavar="VERSION",
                   help="warm start from a version's step size, mass matrix and positions")
    p.add_argument("--warm-start-warmup", type=int, default=defaults.warm_start_warmup,
                   help="warm-up iterations when warm-starting")
    p.add_argument("--no-promote", action="store_true",
                   help="do not move the serving alias (nor take the home's fit lock, so it "
                   "may run beside a server's refit)")
    p.set_defaults(run=run_fit)

    group = commands.add_parser("models", help="list, show and promote model versions")
    sub = group.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    p = sub.add_parser("list", help="all versions with status and the serving mark")
    p.set_defaults(run=run_list)
    p = sub.add_parser("show", help="diagnostics, main effects and a forest plot (PNG)")
    p.add_argument("version", nargs="?", help="version id (default: the serving one)")
    p.add_argument("--plot", help="PNG path (default: ./forest-VERSION.png)")
    p.set_defaults(run=run_show)
    p = sub.add_parser("promote", help="serve a READY version (promote or roll back)")
    p.add_argument("version")
    p.set_defaults(run=run_promote)
