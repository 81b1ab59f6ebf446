"""bench.md (tables) and PNG plots from a bench.json document.

Every figure is shown as `median [min–max]` over its runs. Rows exist only for measured
devices; a device that was requested but not measured is named under every suite with
the reason, so a missing GPU can never pass for a slow or fast one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend is chosen first

MD_FILE = "bench.md"
# Figures shown per suite (every other value stays in bench.json).
COLUMNS = {
    "fit": ("wall_s", "compile_s", "sampling_s", "min_ess_bulk_per_s", "grad_evals_per_s",
            "divergences", "gate_passed"),
    "predict": ("load_s", "first_call_s", "steady_s", "seconds", "patient_draws_per_s"),
    "refit": ("cold_wall_s", "warm_wall_s", "warm_to_cold", "warm_to_cold_excl_compile",
              "warm_started", "warm_gate_passed"),
    "serve": ("p50_ms", "p99_ms", "overhead_p50_ms", "rps", "errors"),
    "startup": ("ready_s", "listening_s", "filling_start_s"),
}
GROUP_BY = {"fit": "experiment", "predict": "path", "serve": "measure"}


class Panel(NamedTuple):
    """One plot: `y` (a metric) against case label `x`, a line per device and `series`."""

    suite: str
    select: Mapping[str, Any]  # case labels a result must have
    x: str
    y: str
    series: tuple[str, ...]
    title: str


PLOTS = {
    "fit.png": (
        Panel("fit", {"experiment": "data size"}, "patients", "min_ess_bulk_per_s", (),
              "NUTS on synthetic data: min bulk ESS/s vs patients"),
        Panel("fit", {"experiment": "chain count"}, "chains", "grad_evals_per_s", (),
              "bundled data: gradient evaluations/s vs chains")),
    "predict.png": (
        Panel("predict", {"path": "predict"}, "draws", "patient_draws_per_s",
              ("dtype", "patients"), "predict (counts): patient-draws/s"),
        Panel("predict", {"path": "simulate"}, "draws", "patient_draws_per_s",
              ("dtype", "patients"), "simulate (raw patients): patient-draws/s")),
    "serve.png": (
        Panel("serve", {"measure": "latency"}, "patient_draws", "p50_ms", ("rpc",),
              "RPC latency p50 vs patients × draws"),
        Panel("serve", {"measure": "throughput"}, "clients", "rps", ("rpc",),
              "requests/s vs concurrent clients")),
}


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1e5 else f"{value:.2e}"


def _load(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"


def cell(result: Mapping[str, Any], metric: str) -> str:
    """`median [min–max]` of a numeric metric, `k/n` of a boolean one, '' when absent."""
    figure = result["summary"].get(metric)
    if figure is not None:
        text = _number(figure["median"])
        spread = figure["min"] != figure["max"]
        return text + (f" [{_number(figure['min'])}–{_number(figure['max'])}]" if spread else "")
    flags = [run[metric] for run in result["runs"] if isinstance(run.get(metric), bool)]
    return f"{sum(flags)}/{len(flags)}" if flags else ""


def _table(results: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> list[str]:
    labels = list(dict.fromkeys(k for r in results for k in r["case"]))
    varying = [k for k in labels if len({str(r["case"].get(k)) for r in results}) > 1]
    shown = [m for m in metrics if any(cell(r, m) for r in results)]
    lines = ["| device | " + " | ".join(varying + shown) + " | note |",
             "|" + "---|" * (len(varying) + len(shown) + 2)]
    for r in results:
        note = "" if r["status"] == "ok" else f"{r['status']}: {r['reason']}".replace("\n", " ")
        values = [str(r["case"].get(k, "")) for k in varying] + [cell(r, m) for m in shown]
        lines.append(f"| {r['device']} | " + " | ".join(values) + f" | {note[:300]} |")
    constant = {k: results[0]["case"][k] for k in labels
                if k not in varying and k in results[0]["case"]}
    head = ", ".join(f"{k} {v}" for k, v in constant.items())
    return ([f"All rows: {head}.", ""] if head else []) + lines


def _suite_section(document: Mapping[str, Any], suite: str) -> list[str]:
    record = document["suites"][suite]
    lines = [f"## {suite}", "", f"Status: {record['status']} in {record['seconds']:.0f} s"
             + (f" — {record['reason']}" if record["reason"] else "") + ".", ""]
    for name, device in document["devices"].items():
        if device["status"] != "measured":
            lines += [f"*{name}: {device['status']}"
                      + (f" — {device['reason']}" if device.get("reason") else "")
                      + "; no rows for it.*", ""]
    results = [r for r in document["results"] if r["suite"] == suite]
    key = GROUP_BY.get(suite)
    groups = dict.fromkeys(str(r["case"].get(key, "")) for r in results) if key else {"": None}
    for group in groups:
        members = [r for r in results if not key or str(r["case"].get(key, "")) == group]
        if members:
            lines += ([f"### {group}", ""] if group else []) + _table(members, COLUMNS[suite])
            lines.append("")
    return lines


def markdown(document: Mapping[str, Any]) -> str:
    m, v = document["machine"], document["versions"]
    lines = [f"# cohort benchmark, {document['created_at']}", ""]
    if document["quick"]:
        lines += ["**Quick run**: tiny sizes that check the pipeline; these figures say "
                  "nothing about speed.", ""]
    if document["config"]["compilation_cache_dir"]:
        lines += ["**Persistent compilation cache on** (JAX_COMPILATION_CACHE_DIR="
                  f"{document['config']['compilation_cache_dir']}): compile times are partly "
                  "cache reads.", ""]
    lines += [f"Machine: {m['host']}, {m['cpu_model']}, {m['cpu_count']} CPU cores, "
              f"{(m['memory_bytes'] or 0) / 2**30:.0f} GiB, {m['os']}; 1-minute load average "
              f"{_load(m['load_average_1m_at_start'])} at start, "
              f"{_load(m.get('load_average_1m_at_end'))} at end (above the core count, other "
              "work competed for the CPU).", "",
              "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".", "",
              "| device | status | platform | kind | count | reason |", "|---|---|---|---|---|---|"]
    for name, d in document["devices"].items():
        lines.append(f"| {name} | {d['status']} | {d.get('platform', '')} | {d.get('kind', '')} "
                     f"| {d.get('count', '')} | {d.get('reason', '')} |")
    lines += ["", "Figures: median [min–max] over the runs; every run is in bench.json.", ""]
    for suite in document["suites"]:
        lines += _suite_section(document, suite)
    return "\n".join(lines)


def _matches(result: Mapping[str, Any], panel: Panel) -> bool:
    return (result["suite"] == panel.suite and result["status"] == "ok"
            and panel.y in result["summary"]
            and all(result["case"].get(k) == v for k, v in panel.select.items()))


def _draw(ax: Any, results: Sequence[Mapping[str, Any]], panel: Panel) -> None:
    lines: dict[str, list[tuple[float, Mapping[str, float]]]] = {}
    for r in results:
        name = " ".join([r["device"], *(f"{k}={r['case'][k]}" for k in panel.series)])
        lines.setdefault(name, []).append((float(r["case"][panel.x]), r["summary"][panel.y]))
    for name, points in lines.items():
        points.sort(key=lambda p: p[0])
        x = [p[0] for p in points]
        mid = [p[1]["median"] for p in points]
        err = [[p[1]["median"] - p[1]["min"] for p in points],
               [p[1]["max"] - p[1]["median"] for p in points]]
        ax.errorbar(x, mid, yerr=err, marker="o", capsize=3, label=name)
    ax.set(xscale="log", yscale="log", xlabel=panel.x, ylabel=panel.y, title=panel.title)
    ax.legend(fontsize="small")


def plot(document: Mapping[str, Any], out: Path) -> list[Path]:
    """The PNGs that have data (a suite not run gets none)."""
    written = []
    for filename, panels in PLOTS.items():
        chosen = [(p, [r for r in document["results"] if _matches(r, p)]) for p in panels]
        chosen = [(p, rs) for p, rs in chosen if rs]
        if not chosen:
            continue
        figure, axes = plt.subplots(1, len(chosen), figsize=(6.5 * len(chosen), 4.5),
                                    squeeze=False)
        for ax, (panel, results) in zip(axes[0], chosen, strict=True):
            _draw(ax, results, panel)
        figure.suptitle("cohort bench" + (" (quick run: not a speed measurement)"
                                          if document["quick"] else ""))
        figure.tight_layout()
        figure.savefig(out / filename, dpi=110)
        plt.close(figure)
        written.append(out / filename)
    return written


def write_report(document: Mapping[str, Any], out: Path) -> list[Path]:
    (out / MD_FILE).write_text(markdown(document) + "\n")
    return [out / MD_FILE, *plot(document, out)]
