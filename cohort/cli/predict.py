"""`cohort predict` and `cohort simulate`: virtual cohorts from a model version."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cohort import RESEARCH_USE_NOTICE
from cohort.engine import Comparison, Engine, PatientBatch, Prediction, Sweep
from cohort.engine.summary import LABELS, as_json
from cohort.errors import InvalidArgument, Violation
from cohort.home import Home
from cohort.report import sweep_plot
from cohort.spec import CohortSpec, Regimen, parse_spec
from cohort.workflow import load_fitted

if TYPE_CHECKING:
    import pyarrow as pa

RESPONSE = ("none", "PR", "CR")
BAND = ("0", "1-2", ">=3")


def read_spec(path: str) -> CohortSpec:
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidArgument([Violation("spec", path, f"unreadable JSON: {error}")]) from None
    return parse_spec(raw)


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """`flu_mg_m2_day=10:40:5` → ("ld.flu_mg_m2_day", [10, 15, ..., 40]) (stop included)."""
    try:
        name, span = text.split("=", 1)
        start, stop, step = (float(x) for x in span.split(":"))
        if step <= 0 or stop < start:
            raise ValueError
    except ValueError:
        raise InvalidArgument([Violation("--sweep", text, "expected FIELD=START:STOP:STEP "
                                         "with STEP > 0, e.g. flu_mg_m2_day=10:40:5")]) from None
    regimen = {f.name for f in fields(Regimen)}
    path = f"ld.{name}" if name in regimen else name
    return path, [float(v) for v in np.arange(start, stop + step / 2, step)]


def _fmt(values: tuple, digits: str) -> str:
    return " ".join(format(v, digits) if v is not None else "n/a" for v in values)


def prediction_table(p: Prediction) -> str:
    q = "/".join(f"{x:g}" for x in p.quantiles)
    rows = []
    for o in p.outcomes:
        row = {"outcome": LABELS[o.outcome], "rate mean": f"{o.rate_mean:.3f}",
               f"rate q{q}": _fmt(o.rate_quantiles, ".3f"),
               f"count of {p.spec.patient_count} q{q}": _fmt(o.count_quantiles, "d")}
        row |= {f"P(count>={k})": f"{pr:.3f}" for k, pr in o.prob_count_at_least}
        rows.append(row)
    peak = p.peak
    return (pd.DataFrame(rows).to_string(index=False) + f"\nmedian peak ({peak.unit}): mean "
            f"{peak.median_mean:.4g}, q{q} {_fmt(peak.median_quantiles, '.4g')}")


def comparison_table(c: Comparison) -> str:
    q = "/".join(f"{x:g}" for x in c.a.quantiles)
    rows = [{"outcome": LABELS[x.outcome], "diff mean": f"{x.difference_mean:+.3f}",
             f"diff q{q}": _fmt(x.difference_quantiles, "+.3f"),
             f"ratio q{q}": _fmt(x.ratio_quantiles, ".2f"),
             "P(A>B)": f"{x.prob_greater:.3f}",
             f"count diff q{q}": _fmt(x.count_difference_quantiles, "+d")}
            for x in c.contrasts]
    return pd.DataFrame(rows).to_string(index=False)


def _engine(args: argparse.Namespace) -> Engine:
    fitted = load_fitted(Home.resolve(args.home), args.version)
    return Engine.load(fitted.data, fitted.idata)


def _print(args: argparse.Namespace, result: Prediction | Comparison | Sweep, text: str) -> None:
    if args.json:
        print(json.dumps(as_json(result), indent=2))
    else:
        print(f"{text}\n\n{RESEARCH_USE_NOTICE}")


def run_predict(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    other = read_spec(args.compare) if args.compare else None
    sweep = parse_sweep(args.sweep) if args.sweep else None
    if args.plot and sweep is None:
        raise InvalidArgument([Violation("--plot", args.plot, "needs --sweep")])
    engine = _engine(args)
    if other is not None:
        result = engine.compare(spec, other)
        _print(args, result, f"A = {args.spec}, B = {args.compare} (paired draws)\n"
               + comparison_table(result))
    elif sweep is not None:
        result = engine.sweep(spec, *sweep)
        if args.plot:
            sweep_plot(result, Path(args.plot))
        _print(args, result, "\n\n".join(f"{result.path} = {v:g}\n{prediction_table(p)}"
                                         for v, p in zip(result.values, result.predictions,
                                                         strict=True)))
    else:
        result = engine.predict(spec)
        _print(args, result, prediction_table(result))
    return 0


def _table(batch: PatientBatch, unit: str) -> pa.Table:
    import pyarrow as pa

    def labelled(codes: np.ndarray, labels: tuple[str, ...]) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(codes.astype(np.int8), pa.array(labels))

    return pa.table({
        "draw": batch.draw, "patient": batch.patient, "expansion": batch.expansion,
        f"peak_{unit.replace('/', '_per_')}": batch.peak,
        "best_response": labelled(batch.response, RESPONSE),
        "crs_grade": labelled(batch.crs, BAND), "icans_grade": labelled(batch.icans, BAND),
        "neut_g3": batch.neut_g3, "gvhd": batch.gvhd})


def write_patients(batches: Iterable[PatientBatch], unit: str, out: str) -> int:
    """Virtual patients as one Parquet file, batch by batch; returns the row count."""
    import pyarrow.parquet as pq

    writer, rows = None, 0
    for batch in batches:
        table = _table(batch, unit)
        writer = writer or pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
        rows += table.num_rows
    if writer is not None:
        writer.close()
    return rows


def run_simulate(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    rows = write_patients(_engine(args).patients(spec), spec.kinetic_unit, args.out)
    print(f"{rows} virtual patients ({spec.draw_count} draws × {spec.patient_count}) → "
          f"{args.out}\n{RESEARCH_USE_NOTICE}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "predict", help="posterior-predictive rates and counts for a cohort spec (JSON)",
        description="Rates (posterior mean, quantiles), counts in a trial of patient_count "
        "and median peak expansion for a cohort spec; --compare gives paired contrasts "
        "A − B, --sweep a dose–response curve. " + RESEARCH_USE_NOTICE)
    p.add_argument("spec", metavar="SPEC.json")
    p.add_argument("--version", help="model version id (default: the serving one)")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.add_argument("--compare", metavar="OTHER.json", help="paired contrast SPEC − OTHER")
    p.add_argument("--sweep", metavar="FIELD=START:STOP:STEP",
                   help="e.g. flu_mg_m2_day=10:40:5 (an ld field, or patient_count)")
    p.add_argument("--plot", metavar="OUT.png", help="with --sweep: rate curves with bands")
    p.set_defaults(run=run_predict)
    p = commands.add_parser(
        "simulate", help="raw virtual patients of a cohort spec → Parquet",
        description="draw_count × patient_count virtual patients (draw, latent expansion, "
        "peak, best response, CRS/ICANS band, neutropenia >=3, GvHD), written in batches. "
        + RESEARCH_USE_NOTICE)
    p.add_argument("spec", metavar="SPEC.json")
    p.add_argument("--version", help="model version id (default: the serving one)")
    p.add_argument("--out", required=True, metavar="PATIENTS.parquet")
    p.set_defaults(run=run_simulate)
