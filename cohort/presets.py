"""Named fit configurations, so that notebooks and demos pick one by name (e.g. from an
environment variable) instead of repeating sampler settings.

`default` is what `cohort fit` runs and what the diagnostics gate is calibrated for.
`tiny` (2 chains × 150 warm-up + 100 draws) compiles and samples in a fraction of the
time, but 200 draws cannot reach ESS ≥ 400: its versions fail the gate, are never served,
and their numbers only illustrate the workflow.
"""

from __future__ import annotations

from cohort.errors import InvalidArgument, Violation
from cohort.fit import FitConfig

FIT_PRESETS: dict[str, FitConfig] = {
    "default": FitConfig(),
    "tiny": FitConfig(num_chains=2, num_warmup=150, num_samples=100, seed=1),
}


def fit_preset(name: str) -> FitConfig:
    """The configuration called `name`; InvalidArgument naming the known ones otherwise."""
    if name not in FIT_PRESETS:
        raise InvalidArgument([Violation("fit preset", name,
                                         f"must be one of {{{', '.join(FIT_PRESETS)}}}")])
    return FIT_PRESETS[name]
