"""`cohort validate --loto`: leave-one-trial-out calibration of the model on a snapshot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import pandas as pd

from cohort.diagnostics import Gate
from cohort.fit import FitConfig, check_config
from cohort.home import Home
from cohort.loto import reportable_trials, run_loto, summarise
from cohort.report import calibration_plot
from cohort.workflow import current_snapshot


def run_validate(args: argparse.Namespace) -> int:
    snapshot = current_snapshot(Home.resolve(args.home), args.position)
    trials = args.trials.split(",") if args.trials else reportable_trials(snapshot.dataset)
    config = check_config(FitConfig(num_chains=args.chains, num_warmup=args.warmup,
                                    num_samples=args.samples, seed=args.seed))
    print(f"leave-one-trial-out on snapshot {snapshot.short_id}: {len(trials)} refits of "
          f"{config.num_chains} chains × {config.num_warmup} + {config.num_samples}",
          file=sys.stderr)

    def progress(trial: str, number: int, total: int) -> None:
        print(f"[{number}/{total}] refit without {trial}", file=sys.stderr, flush=True)

    held, fits = run_loto(jax.random.PRNGKey(args.seed), snapshot.dataset, config, Gate(),
                          trials, progress)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(held)
    pd.DataFrame(held).to_csv(out / "loto_counts.csv", index=False)
    fits.to_csv(out / "loto_fits.csv", index=False)
    summary.to_csv(out / "loto_summary.csv", index=False)
    plot = calibration_plot(summary, out / "loto_calibration.png",
                            f"LOTO, snapshot {snapshot.short_id}, {len(trials)} trials")
    print(summary.to_string(index=False, float_format=lambda x: f"{x:8.3f}"))
    unconverged = fits[(fits.max_rhat >= 1.01) | (fits.divergences > 0)]
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
    p.add_argument("--trials", help="comma-separated trial names (default: every trial "
                   "with a reported count)")
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--samples", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--position", type=int, default=None, help="snapshot ledger position")
    p.add_argument("--out", default="loto", help="output directory (default: ./loto)")
    p.set_defaults(run=run_validate)
