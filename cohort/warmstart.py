"""Warm start of a refit from a previous version's adapted sampler state (DESIGN §5).

A version stores, per chain, NUTS's adapted step size, inverse mass matrix (numpyro's dict
keyed by tuples of site names) and last unconstrained positions in `warmstart.npz`.
A refit may reuse them when every latent site keeps its unconstrained shape or only grows
along its first axis — new groups (a new trial, product or disease adds a row of its
non-centred effects; numpy appends them last): a new row starts at 0, the prior mean of a
non-centred z, with the mean inverse mass of its site. Anything else (a site added,
removed or reshaped) falls back to a cold start and says why.

numpyro's NUTS takes one step size and one mass matrix for all chains, so the per-chain
values are pooled: geometric mean of step sizes, mean inverse mass matrix. After a converged
fit the chains' adaptations agree closely, so pooling loses little. Positions stay per chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

FILE = "warmstart.npz"
_SEP = "|"


class WarmStart(NamedTuple):
    """Adapted state of a finished fit; leading axis of every array = chain."""

    step_size: np.ndarray
    inverse_mass_matrix: dict[tuple[str, ...], np.ndarray]
    positions: dict[str, np.ndarray]
    dense_mass: bool


class WarmStartPlan(NamedTuple):
    """What a refit will use: pooled adaptation + per-chain init positions, or nothing."""

    step_size: float | None
    inverse_mass_matrix: dict[tuple[str, ...], np.ndarray] | None
    init_params: dict[str, np.ndarray] | None
    reason: str

    @property
    def used(self) -> bool:
        return self.init_params is not None


def cold(reason: str) -> WarmStartPlan:
    return WarmStartPlan(None, None, None, reason)


def _grown(old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    return len(old) == len(new) > 0 and new[0] > old[0] and old[1:] == new[1:]


def _mismatch(warm: WarmStart, shapes: Mapping[str, tuple[int, ...]], dense: bool) -> str | None:
    if warm.dense_mass != dense:
        return f"mass matrix was {'dense' if warm.dense_mass else 'diagonal'}, now is not"
    if set(warm.positions) != set(shapes):
        added, removed = sorted(set(shapes) - set(warm.positions)), sorted(
            set(warm.positions) - set(shapes))
        return f"latent sites changed (added {added}, removed {removed})"
    changed = [f"{k}: {warm.positions[k].shape[1:]} -> {tuple(shapes[k])}" for k in sorted(shapes)
               if warm.positions[k].shape[1:] != tuple(shapes[k])
               and not _grown(warm.positions[k].shape[1:], tuple(shapes[k]))]
    return f"parameter shapes changed ({'; '.join(changed)})" if changed else None


def _pad_positions(z: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Per-chain positions (chain, *old) → (chain, *shape), new rows at 0."""
    rows = shape[0] - z.shape[1] if shape else 0
    return np.pad(z, [(0, 0), (0, rows)] + [(0, 0)] * (z.ndim - 2)) if rows else z


def _pad_metric(metric: np.ndarray, block: tuple[str, ...], old: Mapping[str, np.ndarray],
                shapes: Mapping[str, tuple[int, ...]]) -> np.ndarray:
    """A pooled inverse mass matrix of `block` (its sites raveled in order, as numpyro
    does) for the grown shapes: old entries kept, each new entry its site's mean
    variance, no new correlations."""
    keep, fill, start = [], [], 0
    diagonal = metric if metric.ndim == 1 else np.diag(metric)
    for site in block:
        size, new_size = old[site][0].size, int(np.prod(shapes[site], dtype=int))
        keep.append(len(fill) + np.arange(size))
        fill += [float(diagonal[start:start + size].mean())] * new_size
        start += size
    where = np.concatenate(keep)
    if metric.ndim == 1:
        out = np.array(fill)
        out[where] = metric
        return out
    out = np.diag(fill)
    out[np.ix_(where, where)] = metric
    return out


def plan(
    warm: WarmStart, shapes: Mapping[str, tuple[int, ...]], num_chains: int, dense_mass: bool,
) -> WarmStartPlan:
    """Pool `warm` for a fit with `num_chains` chains whose latent sites have unconstrained
    `shapes`; a cold plan (with the reason) when they are incompatible."""
    problem = _mismatch(warm, shapes, dense_mass)
    if problem is not None:
        return cold(f"cold start: {problem}")
    # more chains than before: reuse earlier chains' positions cyclically (keys still differ)
    pick = np.arange(num_chains) % warm.step_size.shape[0]
    grown = [f"{k} {warm.positions[k].shape[1]} -> {shapes[k][0]}" for k in sorted(shapes)
             if warm.positions[k].shape[1:] != tuple(shapes[k])]
    return WarmStartPlan(
        step_size=float(np.exp(np.mean(np.log(warm.step_size)))),
        inverse_mass_matrix={k: _pad_metric(v.mean(axis=0), k, warm.positions, shapes)
                             for k, v in warm.inverse_mass_matrix.items()},
        init_params={k: _pad_positions(v[pick], tuple(shapes[k]))
                     for k, v in warm.positions.items()},
        reason="warm start: reused step size, inverse mass matrix and last positions"
        + (f"; new rows start at 0 ({', '.join(grown)})" if grown else ""),
    )


def save(path: Path, warm: WarmStart) -> None:
    blocks = sorted(warm.inverse_mass_matrix)
    arrays = {f"imm{i}": warm.inverse_mass_matrix[b] for i, b in enumerate(blocks)}
    arrays |= {f"z{i}": warm.positions[k] for i, k in enumerate(sorted(warm.positions))}
    with path.open("wb") as f:
        np.savez(
            f, step_size=warm.step_size, dense_mass=np.array(warm.dense_mass),
            imm_blocks=np.array([_SEP.join(b) for b in blocks], dtype=str),
            sites=np.array(sorted(warm.positions), dtype=str), **arrays,
        )


def load(path: Path) -> WarmStart:
    with np.load(path, allow_pickle=False) as data:
        blocks = [tuple(str(b).split(_SEP)) for b in data["imm_blocks"]]
        return WarmStart(
            step_size=data["step_size"],
            inverse_mass_matrix={b: data[f"imm{i}"] for i, b in enumerate(blocks)},
            positions={str(k): data[f"z{i}"] for i, k in enumerate(data["sites"])},
            dense_mass=bool(data["dense_mass"]),
        )
