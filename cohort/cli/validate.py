"""`cohort validate --loto`: leave-one-trial-out calibration of the model on a snapshot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import pandas as pd

from cohort.dataset import Dataset
from cohort.diagnostics import Gate
from cohort.errors import InvalidArgument, Violation
from cohort.fit import FitConfig, check_config, load_warm_start, use_compile_cache
from cohort.home import Home
from cohort.loto import Held, loto_folds, reportable_trials, summarise
from cohort.report import calibration_plot
from cohort.versions import serving_version
from cohort.warmstart import WarmStart
from cohort.workflow import current_snapshot


def _trials(dataset: Dataset, named: list[str] | None) -> list[str]:
    """The trials to hold out: the named ones (each must have a reported count), else all."""
    scoreable = reportable_trials(dataset)
    if not named:
        return scoreable
    unknown = [Violation("trial", name, "must name a trial with a reported count in this "
                         "snapshot (exact text of the arms table's trial column)")
               for name in named if name not in scoreable]
    if unknown:
        raise InvalidArgument(unknown)
    return list(dict.fromkeys(named))


def _warm_start(home: Home, choice: str | None) -> tuple[WarmStart | None, str]:
    """The fit to warm-start every refit from (default: the serving version), and a line
    saying which. A held-out fold keeps the full data's shapes, so a fit of the same
    snapshot fits it exactly; one of an earlier snapshot is padded (cohort.warmstart)."""
    if choice == "none":
        return None, "cold refits (--init-from none)"
    chosen = choice or serving_version(home.models_dir)
    if chosen is None:
        return None, "cold refits: no serving version to warm-start from"
    return load_warm_start(home.models_dir, chosen), (
        f"refits warm-started from {chosen} (where the shapes allow: warm_started in "
        "loto_fits.csv)")


def _save(out: Path, held: list, fits: list[dict]) -> None:
    """The folds so far (rewritten after every fold: a stopped run keeps what it did)."""
    pd.DataFrame(held, columns=Held._fields).to_csv(out / "loto_counts.csv", index=False)
    pd.DataFrame(fits).to_csv(out / "loto_fits.csv", index=False)


def run_validate(args: argparse.Namespace) -> int:
    home = Home.resolve(args.home)
    use_compile_cache(home.compile_cache)
    snapshot = current_snapshot(home, args.position)
    trials = _trials(snapshot.dataset, args.trial)
    config = check_config(FitConfig(num_chains=args.chains, num_warmup=args.warmup,
                                    num_samples=args.samples, seed=args.seed,
                                    warm_start_warmup=args.warm_start_warmup))
    warm, how = _warm_start(home, args.init_from)
    warmup = config.warm_start_warmup if warm is not None else config.num_warmup
    print(f"leave-one-trial-out on snapshot {snapshot.short_id}: {len(trials)} refits of "
          f"{config.num_chains} chains × {warmup} + {config.num_samples}; {how}",
          file=sys.stderr)

    def progress(trial: str, number: int, total: int) -> None:
        print(f"[{number}/{total}] refit without {trial}", file=sys.stderr, flush=True)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    held: list[Held] = []
    fits: list[dict] = []
    for fold in loto_folds(jax.random.PRNGKey(args.seed), snapshot.dataset, config, Gate(),
                           trials, progress, warm):
        held += fold.held
        fits.append(fold.fit)
        _save(out, held, fits)
    summary = summarise(held)
    summary.to_csv(out / "loto_summary.csv", index=False)
    plot = calibration_plot(summary, out / "loto_calibration.png",
                            f"LOTO, snapshot {snapshot.short_id}, {len(trials)} trials")
    print(summary.to_string(index=False, float_format=lambda x: f"{x:8.3f}"))
    table = pd.DataFrame(fits)
    unconverged = table[(table.max_rhat >= 1.01) | (table.divergences > 0)]
    if len(unconverged):
        print(f"note: {len(unconverged)} refit(s) did not pass R-hat < 1.01 / no divergences; "
              "see loto_fits.csv")
    print(f"tables and {plot.name} written to {out}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "validate", help="leave-one-trial-out predictive validation (--loto)",
        description="Refit the model without each trial (its outcomes emptied, its "
        "covariates kept) and predict its counts: coverage of 50% and 90% predictive "
        "intervals per outcome and the log predictive density against a pooled-by-disease "
        "beta-binomial baseline. Writes CSV tables and a calibration PNG.")
    p.add_argument("--loto", action="store_true", required=True,
                   help="leave-one-trial-out (the one validation available)")
    p.add_argument("--trial", action="append", metavar="NAME",
                   help="hold out this trial (exact name as in the arms table; repeat for "
                   "more; default: every trial with a reported count)")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--samples", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init-from", metavar="VERSION", default=None,
                   help="warm-start every refit from this version (its step size, mass "
                   "matrix and positions); 'none' for cold refits (default: the serving "
                   "version)")
    p.add_argument("--warm-start-warmup", type=int, default=FitConfig.warm_start_warmup,
                   help="warm-up iterations of a warm-started refit")
    p.add_argument("--position", type=int, default=None, help="snapshot ledger position")
    p.add_argument("--out", default="loto", help="output directory (default: ./loto)")
    p.set_defaults(run=run_validate)
