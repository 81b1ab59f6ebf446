"""What a benchmark run measures: sizes, repeats and iteration counts of every suite.

Two presets: the full plan (the figures in docs/BENCHMARKS.md) and `--quick`, a smoke run
at tiny sizes that checks the whole pipeline in the test suite; quick figures say nothing
about speed. A plan is rebuilt from its `Options` in every worker process, so workers and
the parent never disagree about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cohort.fit import FitConfig

SUITES = ("fit", "predict", "refit", "serve", "startup")
DEVICES = ("cpu", "gpu")
# Comparisons of the fit suite (--fit-experiments) → their labels in bench.json / bench.md.
# The bundled baseline (vectorized, default precision and chains) always runs.
FIT_EXPERIMENTS = {"methods": "chain method", "precision": "precision",
                   "chains": "chain count", "sizes": "data size"}


@dataclass(frozen=True)
class Options:
    """The command-line choices a plan is built from (JSON-ready)."""

    quick: bool = False
    repeats: int | None = None  # None: the preset's
    ipd_share: float = 0.2  # fraction of synthetic arms also given as individual patients
    fit_experiments: tuple[str, ...] = tuple(FIT_EXPERIMENTS)  # keys of FIT_EXPERIMENTS
    patients: tuple[int, ...] | None = None  # synthetic data sizes (None: the preset's)
    fit_time_limit_s: float | None = None  # a fit case still running then is stopped
    synthetic_iterations: tuple[int, int] | None = None  # (warm-up, samples) per chain of
    # the data-size cases (None: the preset's)


@dataclass(frozen=True)
class FitPlan:
    chains: int = 4
    warmup: int = 1000  # bundled data, per chain: DESIGN §8's goal is stated for 1000 +
    samples: int = 1000  # 1000 (the default fit draws 2000; sampling time scales linearly)
    methods: tuple[str, ...] = ("vectorized", "sequential", "parallel")
    patients: tuple[int, ...] = (1_000, 10_000, 100_000)  # synthetic data sets
    synthetic_arms: int = 40
    synthetic_warmup: int = 300  # ESS/s is a rate: shorter runs estimate it well enough
    synthetic_samples: int = 300
    chain_counts: tuple[int, ...] = (1, 4, 16, 64)
    sweep_warmup: int = 300
    sweep_samples: int = 300
    max_tree_depth: int = 10  # numpyro's default; --quick caps it to bound every iteration
    experiments: tuple[str, ...] = tuple(FIT_EXPERIMENTS.values())  # labels to run


@dataclass(frozen=True)
class PredictPlan:
    patients: tuple[int, ...] = (10, 100, 1_000, 10_000)
    draws: tuple[int, ...] = (100, 1_000, 10_000)
    dtypes: tuple[str, ...] = ("float32", "float64")  # float32 first: it needs x64 off
    max_simulated: int = 10_000_000  # raw virtual patients: largest patients × draws timed


@dataclass(frozen=True)
class ServePlan:
    sizes: tuple[tuple[int, int], ...] = ((30, 1_000), (1_000, 1_000), (1_000, 10_000))
    requests: int = 200  # sequential calls per size for p50 / p99
    clients: tuple[int, ...] = (1, 4, 16)
    load_size: tuple[int, int] = (1_000, 1_000)  # (patients, draws) of the throughput runs
    duration_s: float = 10.0  # per concurrency level
    ready_timeout_s: float = 900.0  # a server that is not SERVING by then counts as failed
    warm_draw_counts: tuple[int, ...] | None = None  # the server's --warm-draw-counts
    # (None: its default, every draw bucket)


@dataclass(frozen=True)
class RefitPlan:
    chains: int = FitConfig.num_chains  # what a refit request gets by default
    warmup: int = FitConfig.num_warmup  # a cold fit; a warm one runs warm_start_warmup
    warm_start_warmup: int = FitConfig.warm_start_warmup
    samples: int = FitConfig.num_samples
    max_tree_depth: int = FitConfig.max_tree_depth


@dataclass(frozen=True)
class Plan:
    options: Options
    repeats: int = 3
    fit: FitPlan = field(default_factory=FitPlan)
    predict: PredictPlan = field(default_factory=PredictPlan)
    serve: ServePlan = field(default_factory=ServePlan)
    refit: RefitPlan = field(default_factory=RefitPlan)


def make_plan(options: Options) -> Plan:
    chosen = {"experiments": tuple(FIT_EXPERIMENTS[k] for k in options.fit_experiments)}
    if options.patients:
        chosen["patients"] = tuple(options.patients)
    if options.synthetic_iterations:
        chosen["synthetic_warmup"], chosen["synthetic_samples"] = options.synthetic_iterations
    if not options.quick:
        return Plan(options, options.repeats or 3, fit=FitPlan(**chosen))
    return Plan(
        options, options.repeats or 1,
        # every case compiles the model (minutes on a shared 2-core CPU): one of each kind
        FitPlan(**{"chains": 2, "warmup": 20, "samples": 20, "patients": (200,),
                   "synthetic_arms": 6, "synthetic_warmup": 20, "synthetic_samples": 20,
                   "chain_counts": (1,), "sweep_warmup": 20, "sweep_samples": 20,
                   "max_tree_depth": 4, **chosen}),
        # one draw bucket and one patient bucket: the fewest compiles that cover every path
        PredictPlan(patients=(10, 50), draws=(64,), max_simulated=100_000),
        ServePlan(sizes=((30, 100),), requests=20, clients=(1, 4), load_size=(30, 100),
                  duration_s=1.0, ready_timeout_s=600.0, warm_draw_counts=(100,)),
        RefitPlan(chains=2, warmup=20, warm_start_warmup=10, samples=20, max_tree_depth=4))
