"""The virtual-cohort engine: a loaded posterior plus compiled kernels, bucketed shapes.

Shapes are padded up to buckets — powers of two from `min_bucket` up to `chunk_draws`
draws per call, then whole chunks — so a compile happens once per bucket (`warm()` does
the common ones up front) and memory stays bounded for any draw count. The patient
count of a trial is a traced value, not a shape: counts never recompile. Results depend
only on (version, spec, seed), never on chunking (see kernel.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np

from cohort.engine import kernel
from cohort.engine.covariates import Covariates, spec_covariates
from cohort.engine.posterior import Catalogue, PosteriorDraws, load_posterior
from cohort.engine.summary import CohortDraws, Comparison, Prediction, Sweep, contrast, summarize
from cohort.errors import InvalidArgument, Violation
from cohort.model import ModelData
from cohort.spec import MAX_DAILY_DOSE, MAX_PATIENTS, CohortSpec, Product

SWEEPABLE = {**{f"ld.{a}_mg_m2_day": MAX_DAILY_DOSE[a] for a in MAX_DAILY_DOSE},
             **{f"ld.{a}_days": 14 for a in MAX_DAILY_DOSE}, "patient_count": MAX_PATIENTS}


@dataclass(frozen=True)
class EngineConfig:
    dtype: str | None = None  # None: float64 on CPU, float32 on accelerators
    chunk_draws: int = 4096  # most draws per compiled call (bounds memory)
    min_bucket: int = 64
    patient_chunk: int = 4096  # most patients per call when streaming patients
    batch_rows: int = 1 << 18  # about this many patient-draws per streamed batch


class PatientBatch(NamedTuple):
    """Raw virtual patients of a block of draws × patients, rows draw-major."""

    draw: np.ndarray  # int32 virtual draw index
    patient: np.ndarray  # int32
    expansion: np.ndarray  # latent standardised expansion E
    peak: np.ndarray  # peak in the spec's kinetic unit
    response: np.ndarray  # int8: 0 none, 1 PR, 2 CR
    crs: np.ndarray  # int8 band: 0 none, 1 grade 1–2, 2 grade ≥ 3
    icans: np.ndarray  # int8 band
    neut_g3: np.ndarray  # bool
    gvhd: np.ndarray  # bool


def bucket(size: int, config: EngineConfig) -> int:
    """Padded size of a call: the next power of two, at least min_bucket."""
    return max(config.min_bucket, 1 << max(size - 1, 0).bit_length())


def _chunks(total: int, chunk: int, config: EngineConfig) -> Iterator[tuple[int, int, int]]:
    """(start, stop, padded size) of each call covering range(total)."""
    for start in range(0, total, chunk):
        stop = min(total, start + chunk)
        yield start, stop, min(chunk, bucket(stop - start, config))


def _padded(start: int, stop: int, size: int) -> jax.Array:
    # padding repeats the last index: valid draws whose results are dropped
    return jnp.asarray(np.minimum(np.arange(start, start + size), stop - 1), jnp.int32)


def choose_dtype(config: EngineConfig) -> str:
    """The engine's float type; float64 needs JAX's global x64 flag (set here, the edge)."""
    dtype = config.dtype or ("float64" if jax.default_backend() == "cpu" else "float32")
    if dtype == "float64" and not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
    return dtype


class Engine:
    """Posterior-predictive virtual cohorts of one model version."""

    def __init__(self, posterior: PosteriorDraws, catalogue: Catalogue,
                 config: EngineConfig = EngineConfig()) -> None:
        self.posterior, self.catalogue, self.config = posterior, catalogue, config

    @classmethod
    def load(cls, data: ModelData, idata: az.InferenceData,
             config: EngineConfig = EngineConfig()) -> Engine:
        posterior, catalogue = load_posterior(data, idata, choose_dtype(config))
        return cls(posterior, catalogue, config)

    @property
    def traces(self) -> int:
        """Compiles of the engine's kernels so far (process-wide)."""
        return kernel.TRACES["cohort"] + kernel.TRACES["patients"]

    def covariates(self, spec: CohortSpec) -> Covariates:
        """The spec's arrays in the engine's dtype (another dtype would mean a retrace)."""
        cov = spec_covariates(spec, self.catalogue)
        dtype = self.posterior.alpha.dtype
        return cov._replace(design=cov.design.astype(dtype), ld=cov.ld.astype(dtype))

    def draws(self, spec: CohortSpec) -> CohortDraws:
        """Per-draw rates, counts and median peak of `spec` (draw_count draws)."""
        cov, key = self.covariates(spec), jax.random.key(spec.seed, impl="threefry2x32")
        parts = []
        for start, stop, size in _chunks(spec.draw_count, self.config.chunk_draws, self.config):
            out = kernel.cohort_kernel(key, self.posterior, cov, _padded(start, stop, size),
                                       jnp.int32(spec.draw_count), jnp.int32(spec.patient_count))
            parts.append(jax.tree.map(lambda x, n=stop - start: np.asarray(x)[:n], out))
        return CohortDraws(*(np.concatenate(x) for x in zip(*parts, strict=True)))

    def predict(self, spec: CohortSpec) -> Prediction:
        return summarize(spec, self.draws(spec))

    def compare(self, a: CohortSpec, b: CohortSpec) -> Comparison:
        """Paired contrasts a − b; b runs with a's seed and draw count (common numbers)."""
        b = replace(b, seed=a.seed, draw_count=a.draw_count, quantiles=a.quantiles)
        da, db = self.draws(a), self.draws(b)
        return Comparison(summarize(a, da), summarize(b, db), contrast(da, db, a.quantiles))

    def sweep(self, spec: CohortSpec, path: str, values: Sequence[float]) -> Sweep:
        """One prediction per value of `path` (e.g. ld.flu_mg_m2_day), same random numbers."""
        _check_sweep(spec, path, values)
        whole = path.endswith("_days") or path == "patient_count"
        values = tuple(int(v) if whole else float(v) for v in values)
        return Sweep(path, values, tuple(self.predict(spec.with_value(path, v)) for v in values))

    def patients(self, spec: CohortSpec) -> Iterator[PatientBatch]:
        """Raw virtual patients in batches (draws × patients blocks)."""
        cov, key = self.covariates(spec), jax.random.key(spec.seed, impl="threefry2x32")
        n, config = spec.patient_count, self.config
        per_call = min(config.patient_chunk, bucket(n, config))
        draws_per_call = max(1, config.batch_rows // per_call)
        for d0, d1, dsize in _chunks(spec.draw_count, draws_per_call, config):
            for p0, p1, psize in _chunks(n, per_call, config):
                out = kernel.patients_kernel(key, self.posterior, cov, _padded(d0, d1, dsize),
                                             jnp.int32(spec.draw_count), _padded(p0, p1, psize))
                yield _batch(out, d0, d1, p0, p1)

    def warm(self, draw_counts: Sequence[int] = (1000,), patient_counts: Sequence[int] = ()) -> int:
        """Compile the buckets of these request sizes now; returns the compiles it caused."""
        before = self.traces
        index = self.catalogue.index
        spec = CohortSpec(product=Product(name=index.products[0]), disease=index.diseases[0])
        for draws in draw_counts:
            self.draws(replace(spec, draw_count=draws))
        for n in patient_counts:
            for draws in draw_counts:
                for _ in self.patients(replace(spec, draw_count=draws, patient_count=n)):
                    pass
        return self.traces - before


def _batch(out: kernel.PatientArrays, d0: int, d1: int, p0: int, p1: int) -> PatientBatch:
    arrays = {k: np.asarray(v)[: d1 - d0, : p1 - p0].reshape(-1)
              for k, v in out._asdict().items()}
    draw, patient = np.meshgrid(np.arange(d0, d1, dtype=np.int32),
                                np.arange(p0, p1, dtype=np.int32), indexing="ij")
    return PatientBatch(draw=draw.reshape(-1), patient=patient.reshape(-1), **arrays)


def _check_sweep(spec: CohortSpec, path: str, values: Sequence[float]) -> None:
    bad = []
    if path not in SWEEPABLE:
        bad.append(Violation("sweep.path", path, f"one of {{{', '.join(SWEEPABLE)}}}"))
    elif not values or any(not 0 <= v <= SWEEPABLE[path] for v in values):
        bad.append(Violation("sweep.values", str(list(values)),
                             f"1 or more values in [0, {SWEEPABLE[path]:g}]"))
    elif path.endswith("_mg_m2_day") and getattr(spec.ld, path[3:].replace("mg_m2_day",
                                                                           "days")) == 0:
        # a daily dose over 0 days is no dose: the curve would be silently flat
        days = path.replace("mg_m2_day", "days")
        bad.append(Violation("sweep.path", path, f"the spec gives {days} = 0; set it first"))
    if bad:
        raise InvalidArgument(bad)
