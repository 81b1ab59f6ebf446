"""The convergence gate (DESIGN §5): unrounded ArviZ diagnostics against fixed thresholds.

A fit passes only if max rank-normalised split R-hat < 1.01, min bulk- and tail-ESS ≥ 400
and there are zero post-warm-up divergences. Everything is computed per scalar element of
every posterior variable except the ones the caller excludes by name (deterministic sites).

Constant elements: an element whose draws are identical across *all* chains and draws
(a structural zero, a correlation matrix's unit diagonal) carries no uncertainty, so it has
nothing to converge; ArviZ returns NaN R-hat / ESS for it. Such elements are skipped and
counted in `constant_elements`. A chain stuck at its own value differs *between* chains, so
it is not constant and fails through R-hat. A NaN diagnostic on a varying element fails.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import arviz as az
import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Gate:
    """Thresholds. Tests may relax them, but only by constructing a Gate explicitly."""

    max_rhat: float = 1.01
    min_ess_bulk: float = 400.0
    min_ess_tail: float = 400.0
    max_divergences: int = 0


@dataclass(frozen=True)
class ParamDiagnostic:
    """One scalar element, e.g. `theta[3]`, with its three diagnostics."""

    name: str
    rhat: float
    ess_bulk: float
    ess_tail: float


@dataclass(frozen=True)
class Diagnostics:
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    num_chains: int
    num_draws: int
    worst: tuple[ParamDiagnostic, ...]
    excluded: tuple[str, ...]
    constant_elements: int
    gate: Gate
    passed: bool
    reasons: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN/inf become None: JSON has no NaN)."""
        return _json_safe(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostics:
        nan = float("nan")
        worst = tuple(
            ParamDiagnostic(**{k: nan if v is None else v for k, v in w.items()})
            for w in data["worst"]
        )
        floats = {k: nan if data[k] is None else data[k]
                  for k in ("max_rhat", "min_ess_bulk", "min_ess_tail")}
        return cls(**{**data, **floats, "worst": worst, "excluded": tuple(data["excluded"]),
                      "gate": Gate(**data["gate"]), "reasons": tuple(data["reasons"])})


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _element_names(name: str, shape: tuple[int, ...]) -> list[str]:
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def _per_element(posterior: xr.Dataset) -> list[ParamDiagnostic]:
    """Diagnostics of every non-constant scalar element, in variable order."""
    with np.errstate(invalid="ignore", divide="ignore"):  # constant elements give 0/0
        rhat = az.rhat(posterior, method="rank")
        bulk = az.ess(posterior, method="bulk")
        tail = az.ess(posterior, method="tail")
    out: list[ParamDiagnostic] = []
    for name, draws in posterior.data_vars.items():
        values = draws.transpose("chain", "draw", ...).values
        flat = values.reshape(values.shape[0] * values.shape[1], -1)
        varying = np.ptp(flat, axis=0) > 0
        names = _element_names(str(name), values.shape[2:])
        cols = [np.asarray(d[name].values, dtype=float).reshape(-1) for d in (rhat, bulk, tail)]
        out += [ParamDiagnostic(names[i], float(cols[0][i]), float(cols[1][i]), float(cols[2][i]))
                for i in np.flatnonzero(varying)]
    return out


def _reasons(
    elements: list[ParamDiagnostic], extremes: tuple[float, float, float], divergences: int,
    gate: Gate,
) -> list[str]:
    if not elements:
        return ["no varying posterior element to diagnose"]
    reasons = [f"{e.name}: diagnostics are NaN" for e in elements
               if np.isnan([e.rhat, e.ess_bulk, e.ess_tail]).any()]
    max_rhat, bulk, tail = extremes  # NaN-propagating, so `not x < limit` catches NaN
    if not max_rhat < gate.max_rhat:
        reasons.append(f"max R-hat {max_rhat!r} >= {gate.max_rhat}")
    if not bulk >= gate.min_ess_bulk:
        reasons.append(f"min bulk ESS {bulk!r} < {gate.min_ess_bulk}")
    if not tail >= gate.min_ess_tail:
        reasons.append(f"min tail ESS {tail!r} < {gate.min_ess_tail}")
    if divergences > gate.max_divergences:
        reasons.append(f"{divergences} divergences after warm-up > {gate.max_divergences}")
    return reasons


def _extremes(elements: list[ParamDiagnostic]) -> tuple[float, float, float]:
    if not elements:
        return (float("nan"),) * 3
    rhat, bulk, tail = np.array([[e.rhat, e.ess_bulk, e.ess_tail] for e in elements]).T
    return float(np.max(rhat)), float(np.min(bulk)), float(np.min(tail))


def _worst(elements: list[ParamDiagnostic], count: int) -> tuple[ParamDiagnostic, ...]:
    """The elements with the highest R-hat and the lowest ESS, without repeats."""
    nan_worst = [(e.rhat if np.isfinite(e.rhat) else np.inf) for e in elements]
    by_rhat = [elements[i] for i in np.argsort(nan_worst)[::-1][:count]]
    by_ess = sorted(elements, key=lambda e: np.nan_to_num(min(e.ess_bulk, e.ess_tail)))[:count]
    return tuple(dict.fromkeys(by_rhat + by_ess))


def compute_diagnostics(
    idata: az.InferenceData,
    gate: Gate = Gate(),
    exclude: tuple[str, ...] = (),
    worst_count: int = 3,
) -> Diagnostics:
    """Gate `idata` (posterior + sample_stats.diverging, post-warm-up draws only).

    `exclude` names posterior variables left out (deterministic / derived sites); they are
    recorded in the result so that the exclusion is never silent.
    """
    posterior = idata.posterior
    kept = [v for v in posterior.data_vars if v not in exclude]
    elements = _per_element(posterior[kept])
    divergences = int(idata.sample_stats["diverging"].values.sum())
    extremes = _extremes(elements)
    reasons = _reasons(elements, extremes, divergences, gate)
    total = sum(int(np.prod(posterior[v].shape[2:], dtype=int)) for v in kept)
    return Diagnostics(
        max_rhat=extremes[0],
        min_ess_bulk=extremes[1],
        min_ess_tail=extremes[2],
        divergences=divergences,
        num_chains=posterior.sizes["chain"],
        num_draws=posterior.sizes["draw"],
        worst=_worst(elements, worst_count),
        excluded=tuple(sorted(v for v in exclude if v in posterior.data_vars)),
        constant_elements=total - len(elements),
        gate=gate,
        passed=not reasons,
        reasons=tuple(reasons),
    )
