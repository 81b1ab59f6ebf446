"""Fit a NumPyro model with NUTS and turn the fit into a model version (DESIGN §5).

`fit_model` is pure apart from the clock and JAX's global x64 flag: it drives numpyro's NUTS
kernel itself, in compiled chunks of `chunk_size` iterations, so that progress (phase,
iteration, ETA) can be reported for every chain method -- numpyro's own progress bar works
for sequential chains only, and vectorized chains are the fast choice on CPU. Adaptation
lives in the sampler state (it adapts while `state.i < num_warmup`), so chunking changes
nothing in the draws. `fit_to_version` adds the gate's verdict and the disk.
"""

from __future__ import annotations

import platform
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro import handlers
from numpyro.infer import NUTS
from numpyro.infer.util import initialize_model, log_likelihood

from cohort import warmstart
from cohort.diagnostics import Diagnostics, Gate, compute_diagnostics
from cohort.errors import InvalidArgument, Violation
from cohort.versions import (
    FAILED,
    POSTERIOR,
    READY,
    Version,
    code_version,
    library_versions,
    load_version,
    write_version,
)

DEFAULT_GATE = Gate()
CHAIN_METHODS = ("auto", "vectorized", "parallel", "sequential")


@dataclass(frozen=True)
class FitConfig:
    num_chains: int = 4
    num_warmup: int = 1000
    # 2000, not 1000: at 1000 the max R-hat over ~800 elements crossed 1.01 by Monte Carlo
    # noise in 1 of 5 bundled fits; doubling the draws halves that noise (docs/MODEL.md).
    num_samples: int = 2000
    seed: int = 0
    target_accept_prob: float = 0.9
    max_tree_depth: int = 10
    dense_mass: bool = False
    chain_method: str = "auto"
    chunk_size: int = 50  # iterations per compiled call = per progress event
    warm_start_warmup: int = 200  # warm-up length when a compatible warm start is used
    # float64 on every device: float32 chains stall (steps ~1e-7) on synthetic data of
    # 10³-10⁵ patients, and at 10⁴ a potential-energy difference is already ~1 nat off
    # (docs/MODEL.md, "Numerics"); opt in with x64=False
    x64: bool = True


def check_config(config: FitConfig) -> FitConfig:
    """The config if usable, else InvalidArgument naming every bad field and its range."""
    bounds = {"num_chains": 1, "num_warmup": 1, "num_samples": 1, "chunk_size": 1,
              "warm_start_warmup": 1, "max_tree_depth": 1, "seed": 0}
    problems = [Violation(name, str(getattr(config, name)), f"must be an integer >= {low}")
                for name, low in bounds.items() if getattr(config, name) < low]
    if not 0.0 < config.target_accept_prob < 1.0:
        problems.append(Violation("target_accept_prob", str(config.target_accept_prob),
                                  "must be strictly between 0 and 1"))
    if config.chain_method not in CHAIN_METHODS:
        problems.append(Violation("chain_method", config.chain_method,
                                  f"must be one of {{{', '.join(CHAIN_METHODS)}}}"))
    if problems:
        raise InvalidArgument(problems)
    return config


class Progress(NamedTuple):
    phase: str  # "warmup" or "sampling"
    iteration: int  # iterations done in this phase
    total: int  # iterations of this phase
    eta_seconds: float | None  # whole fit, from the latest chunk's speed


class Timings(NamedTuple):
    wall_s: float  # everything: init, compile, warm-up, sampling, InferenceData
    compile_s: float  # initialisation + compilation of the chunk functions
    warmup_s: float
    sampling_s: float


@dataclass(frozen=True)
class FitResult:
    idata: az.InferenceData
    diagnostics: Diagnostics
    timings: Timings
    adapted: warmstart.WarmStart  # this fit's adaptation, for the next warm start
    warm_started: bool
    warm_start_note: str  # what was (not) reused and why; never silent
    num_warmup: int  # warm-up iterations actually run
    chain_method: str
    device: dict[str, Any]


ProgressFn = Callable[[Progress], None]


def choose_chain_method(requested: str, num_chains: int, device_count: int) -> str:
    """'auto': 'parallel' (one chain per device) only when every chain gets its own
    device -- numpyro's parallel silently runs sequentially otherwise; else 'vectorized',
    the fastest on a 2-core CPU and on a single accelerator."""
    if requested not in CHAIN_METHODS:
        raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, got {requested!r}")
    if requested == "parallel" and num_chains > device_count:
        raise ValueError(f"parallel needs one device per chain: {num_chains} > {device_count}")
    if requested != "auto":
        return requested
    return "parallel" if 1 < num_chains <= device_count else "vectorized"


def device_description() -> dict[str, Any]:
    devices = jax.devices()
    return {"platform": devices[0].platform, "kind": devices[0].device_kind,
            "count": len(devices), "host": platform.node()}


def _set_precision(config: FitConfig) -> None:
    """The edge where a fit starts: its float width is a global flag."""
    jax.config.update("jax_enable_x64", config.x64)


def use_compile_cache(directory: Path) -> None:
    """An edge's choice: compiled programs persist in `directory` (a repeated fit or a
    LOTO fold of the same shapes skips minutes of compiling), unless
    JAX_COMPILATION_CACHE_DIR already chose a place."""
    if not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir", str(directory))


def _chunks(total: int, size: int) -> list[int]:
    return [size] * (total // size) + ([total % size] if total % size else [])


class _Inputs(NamedTuple):
    """model_kwargs split for compiled programs: its array leaves travel as arguments, so
    one program serves every data set of the same shapes (LOTO folds, refits, the
    persistent compilation cache); other leaves (names, sizes) stay fixed in the program."""

    arrays: list[Any]
    rebuild: Callable[[list[Any]], dict[str, Any]]


def _inputs(model_kwargs: Mapping[str, Any]) -> _Inputs:
    leaves, treedef = jax.tree_util.tree_flatten(dict(model_kwargs))
    is_array = [isinstance(leaf, (np.ndarray, jax.Array)) for leaf in leaves]

    def rebuild(arrays: list[Any]) -> dict[str, Any]:
        given = iter(arrays)
        return treedef.unflatten([next(given) if a else leaf
                                  for leaf, a in zip(leaves, is_array, strict=True)])

    return _Inputs([leaf for leaf, a in zip(leaves, is_array, strict=True) if a], rebuild)


def _one_chain_chunk(kernel: NUTS, inputs: _Inputs, length: int) -> Callable:
    def chunk(state: Any, arrays: list[Any]) -> tuple[Any, tuple[Any, dict[str, jax.Array]]]:
        model_kwargs = inputs.rebuild(arrays)

        def body(state: Any, _: None) -> tuple[Any, tuple[Any, dict[str, jax.Array]]]:
            state = kernel.sample(state, (), model_kwargs)
            stats = {"diverging": state.diverging, "lp": -state.potential_energy,
                     "energy": state.energy, "n_steps": state.num_steps,
                     "acceptance_rate": state.accept_prob,
                     "step_size": state.adapt_state.step_size}
            return state, (state.z, stats)

        return jax.lax.scan(body, state, None, length=length)

    return chunk


def _compile(fn: Callable, method: str, state: Any, arrays: list[Any]) -> Callable:
    """`fn(state, arrays)` mapped over chains (the state's leading axis), compiled."""
    if method == "parallel":
        return jax.pmap(fn, in_axes=(0, None)).lower(state, arrays).compile()
    if method == "vectorized":
        mapped = jax.vmap(fn, in_axes=(0, None))
    else:
        mapped = lambda s, a: jax.lax.map(lambda one: fn(one, a), s)  # noqa: E731
    return jax.jit(mapped).lower(state, arrays).compile()


class _Phase(NamedTuple):
    name: str
    total: int
    remaining_after: int  # iterations of later phases, for the ETA


def _run_phase(
    step: Mapping[int, Callable], state: Any, arrays: list[Any], phase: _Phase, chunk: int,
    on_progress: ProgressFn | None, collect: bool,
) -> tuple[Any, list[Any], float]:
    """Run one phase chunk by chunk; returns the last state, collected chunks, seconds."""
    start, done, collected = time.perf_counter(), 0, []
    for length in _chunks(phase.total, chunk):
        tick = time.perf_counter()
        state, out = jax.block_until_ready(step[length](state, arrays))
        done += length
        if collect:
            collected.append(out)
        if on_progress is not None:
            per_iter = (time.perf_counter() - tick) / length
            eta = per_iter * (phase.total - done + phase.remaining_after)
            on_progress(Progress(phase.name, done, phase.total, eta))
    return state, collected, time.perf_counter() - start


def _build_kernel(model: Callable, config: FitConfig, plan: warmstart.WarmStartPlan) -> NUTS:
    common = {"target_accept_prob": config.target_accept_prob,
              "max_tree_depth": config.max_tree_depth, "dense_mass": config.dense_mass}
    if not plan.used:
        return NUTS(model, **common)
    # the old metric is better than one re-estimated from a short warm-up: keep it fixed
    # and re-adapt only the step size (dual averaging starts from the old one)
    metric = {k: jnp.asarray(v) for k, v in plan.inverse_mass_matrix.items()}
    return NUTS(model, step_size=plan.step_size, adapt_mass_matrix=False,
                inverse_mass_matrix=metric, **common)


def _constant_data(model_kwargs: Mapping[str, Any], observed: Mapping[str, Any]) -> dict:
    """Numeric/boolean model inputs other than the observations (nested containers are
    flattened to `data_rows_n_cr`-style names); strings and other objects are skipped."""
    leaves = jax.tree_util.tree_flatten_with_path(dict(model_kwargs))[0]
    out = {}
    for path, leaf in leaves:
        if not isinstance(leaf, (np.ndarray, jax.Array, bool, int, float)):
            continue
        value = np.asarray(leaf)
        if value.dtype != bool and not np.issubdtype(value.dtype, np.number):
            continue
        if any(np.shape(o) == value.shape and np.array_equal(o, value) for o in observed.values()):
            continue
        out[re.sub(r"\W+", "_", jax.tree_util.keystr(path)).strip("_")] = value
    return out


def _inference_data(
    model: Callable, model_kwargs: Mapping[str, Any], trace: Mapping[str, Any],
    samples: Mapping[str, jax.Array], stats: Mapping[str, jax.Array],
    observed_data: Mapping[str, np.ndarray],
) -> az.InferenceData:
    observed = {name: np.asarray(site["value"]) for name, site in trace.items()
                if site["type"] == "sample" and site["is_observed"]
                and np.size(site["value"])}  # numpyro.factor sites observe an empty value
    observed.update(observed_data)
    # jit: eager vmap dispatches the model op by op, far slower than one compile
    loglik = jax.jit(partial(log_likelihood, model, batch_ndims=2, **model_kwargs))(dict(samples))
    return az.from_dict(
        posterior={k: np.asarray(v) for k, v in samples.items()},
        sample_stats={k: np.asarray(v) for k, v in stats.items()},
        log_likelihood={k: np.asarray(v) for k, v in loglik.items()} or None,
        observed_data=observed or None,
        constant_data=_constant_data(model_kwargs, observed) or None,
        attrs={"inference_library": "numpyro", "inference_library_version": numpyro.__version__},
    )


def _concat(chunks: list[Any]) -> Any:
    """Chunk outputs are (chain, iteration, ...): join them along the iteration axis."""
    return jax.tree.map(lambda *xs: np.concatenate([np.asarray(x) for x in xs], axis=1), *chunks)


def _unconstrained_shapes(rng_key: jax.Array, model: Callable,
                          model_kwargs: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Latent sites' unconstrained shapes, by tracing only (nothing is run or compiled)."""
    z = jax.eval_shape(
        lambda key: initialize_model(key, model, model_kwargs=dict(model_kwargs)).param_info.z,
        rng_key)
    return {k: tuple(v.shape) for k, v in z.items()}


class _Start(NamedTuple):
    kernel: NUTS
    state: Any  # per-chain HMCState, leading axis = chain
    plan: warmstart.WarmStartPlan
    num_warmup: int


def _start(rng_key: jax.Array, model: Callable, model_kwargs: Mapping[str, Any],
           inputs: _Inputs, config: FitConfig, init_from: warmstart.WarmStart | None,
           ) -> _Start:
    """Kernel and initial per-chain states, warm when `init_from` fits the model's shapes."""
    probe_key, chain_key = jax.random.split(rng_key)
    if init_from is None:
        plan = warmstart.cold("cold start: no previous version")
    else:
        shapes = _unconstrained_shapes(probe_key, model, model_kwargs)
        plan = warmstart.plan(init_from, shapes, config.num_chains, config.dense_mass)
    num_warmup = config.warm_start_warmup if plan.used else config.num_warmup
    kernel = _build_kernel(model, config, plan)
    # init one chain per key under vmap, so the kernel's own sample_fn stays unbatched and
    # the chain method is only a matter of how chunks are mapped over chains
    init = jax.jit(jax.vmap(
        lambda k, p, a: kernel.init(k, num_warmup, p, (), inputs.rebuild(a)),
        in_axes=(0, 0, None)))
    state = init(jax.random.split(chain_key, config.num_chains), plan.init_params,
                 inputs.arrays)
    return _Start(kernel, state, plan, num_warmup)


def _smallest_step_size(state: Any) -> Any:
    """Every chain samples with the smallest of the chains' adapted step sizes.

    Each chain's dual averaging ends somewhere noisy — 0.025 to 0.044 on the bundled data,
    mean acceptance 0.86 to 0.95 against the 0.9 target — and the divergences of default
    fits came from the chain with the largest step (docs/MODEL.md). A smaller step only
    lowers the integration error; a vectorised run already pays for the longest of the
    chains' trees each iteration, so it costs little there. The kernel is fixed after
    warm-up either way, so every chain remains a valid Markov chain."""
    adapt = state.adapt_state
    smallest = jnp.broadcast_to(jnp.min(adapt.step_size), adapt.step_size.shape)
    # placed like the per-chain steps: a compiled pmap insists on its inputs' shardings
    smallest = jax.device_put(smallest, adapt.step_size.sharding)
    return state._replace(adapt_state=adapt._replace(step_size=smallest))


def _adapted(state: Any, dense_mass: bool) -> warmstart.WarmStart:
    adapt = state.adapt_state
    return warmstart.WarmStart(
        np.asarray(adapt.step_size),
        {k: np.asarray(v) for k, v in adapt.inverse_mass_matrix.items()},
        {k: np.asarray(v) for k, v in state.z.items()}, dense_mass)


def fit_model(
    rng_key: jax.Array,
    model: Callable,
    model_kwargs: Mapping[str, Any],
    config: FitConfig,
    on_progress: ProgressFn | None = None,
    init_from: warmstart.WarmStart | None = None,
    gate: Gate = DEFAULT_GATE,
    observed_data: Mapping[str, np.ndarray] | None = None,
) -> FitResult:
    """Run NUTS on `model(**model_kwargs)` and gate the result; nothing touches the disk.

    `observed_data` adds what a model conditions on through factors (which ArviZ cannot
    see) to the InferenceData's observed_data group."""
    check_config(config)
    wall = time.perf_counter()
    device = device_description()
    _set_precision(config)
    method = choose_chain_method(config.chain_method, config.num_chains, device["count"])
    inputs = _inputs(model_kwargs)
    kernel, state, plan, num_warmup = _start(rng_key, model, model_kwargs, inputs, config,
                                             init_from)
    size = config.chunk_size
    lengths = set(_chunks(num_warmup, size) + _chunks(config.num_samples, size))
    step = {n: _compile(_one_chain_chunk(kernel, inputs, n), method, state, inputs.arrays)
            for n in lengths}
    compile_s = time.perf_counter() - wall
    state, _, warmup_s = _run_phase(step, state, inputs.arrays,
                                    _Phase("warmup", num_warmup, config.num_samples),
                                    size, on_progress, collect=False)
    state = _smallest_step_size(state)
    state, chunks, sampling_s = _run_phase(step, state, inputs.arrays,
                                           _Phase("sampling", config.num_samples, 0),
                                           size, on_progress, collect=True)
    z, stats = _concat(chunks)
    samples = jax.jit(jax.vmap(jax.vmap(kernel.postprocess_fn((), model_kwargs))))(z)
    trace = handlers.trace(handlers.seed(model, rng_key)).get_trace(**model_kwargs)
    idata = _inference_data(model, model_kwargs, trace, samples, stats, observed_data or {})
    deterministic = tuple(k for k, site in trace.items() if site["type"] == "deterministic")
    return FitResult(
        idata, compute_diagnostics(idata, gate, exclude=deterministic),
        Timings(time.perf_counter() - wall, compile_s, warmup_s, sampling_s),
        _adapted(state, config.dense_mass), plan.used, plan.reason, num_warmup, method, device)


def load_warm_start(models_dir: Path, version_id: str) -> warmstart.WarmStart:
    """A version's adapted sampler state (verified like any load)."""
    previous = load_version(models_dir, version_id)
    if warmstart.FILE not in previous.manifest["files"]:
        raise InvalidArgument([Violation("init_from", version_id, "has no warm-start state")])
    return warmstart.load(previous.file(warmstart.FILE))


def fit_to_version(
    models_dir: Path,
    model: Callable,
    model_kwargs: Mapping[str, Any],
    config: FitConfig,
    snapshot_hash: str,
    on_progress: ProgressFn | None = None,
    init_from: str | None = None,
    gate: Gate = DEFAULT_GATE,
    extra_manifest: Mapping[str, Any] | None = None,
    extra_files: Mapping[str, Callable[[Path], Any]] | None = None,
    observed_data: Mapping[str, np.ndarray] | None = None,
) -> tuple[Version, FitResult]:
    """Fit (seeded by `config.seed`), gate, and write a READY or FAILED version.

    `init_from` names a previous version to warm-start from (verified like any load);
    `extra_files` maps more file names to writers (checksummed like the posterior).
    The alias is never moved here: promotion is `versions.set_serving`'s job.
    """
    warm = None if init_from is None else load_warm_start(models_dir, init_from)
    result = fit_model(jax.random.PRNGKey(config.seed), model, model_kwargs, config,
                       on_progress, warm, gate, observed_data)
    fields = {
        "status": READY if result.diagnostics.passed else FAILED,
        "snapshot_hash": snapshot_hash, "seed": config.seed, "fit_config": asdict(config),
        "diagnostics": result.diagnostics.to_dict(), "timings": result.timings._asdict(),
        "warm_start": {"from": init_from, "used": result.warm_started,
                       "note": result.warm_start_note},
        "num_warmup_run": result.num_warmup, "chain_method": result.chain_method,
        "device": result.device, "code_version": code_version(),
        "libraries": library_versions(), **(extra_manifest or {}),
    }
    writers = {POSTERIOR: result.idata.to_netcdf,
               warmstart.FILE: partial(warmstart.save, warm=result.adapted),
               **(extra_files or {})}
    version = write_version(models_dir, writers, fields, datetime.now(UTC))
    return version, result
