"""Shared fixtures: one tiny real fit of the bundled data, reused by every test that needs
a model version (engine, CLI, server), so the suite pays the model's compile time once."""

from __future__ import annotations

from pathlib import Path

import jax
import pytest

from cohort.diagnostics import Gate
from cohort.fit import FitConfig
from cohort.home import Home
from cohort.versions import Version, set_serving
from cohort.workflow import current_snapshot, fit_snapshot

# Tiny fits cannot pass the production gate; tests that need a READY version say so
# explicitly with this gate, never by loosening the default.
TINY_GATE = Gate(max_rhat=float("inf"), min_ess_bulk=0.0, min_ess_tail=0.0,
                 max_divergences=10**9)
TINY_FIT = FitConfig(num_chains=2, num_warmup=150, num_samples=100, seed=1)


@pytest.fixture(scope="session", autouse=True)
def _compilation_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Identical programs (the same model on the same data) compile once per session."""
    jax.config.update("jax_compilation_cache_dir", str(tmp_path_factory.mktemp("jax-cache")))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


@pytest.fixture(scope="session")
def fitted_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Home, Version]:
    """A home whose serving version is a tiny (READY under TINY_GATE) bundled-data fit.

    Read-only for tests: copy it (shutil.copytree) before changing anything.
    """
    home = Home.resolve(tmp_path_factory.mktemp("fitted-home"))
    version, _ = fit_snapshot(home, current_snapshot(home), TINY_FIT, gate=TINY_GATE)
    set_serving(home.models_dir, version.id)
    return home, version


@pytest.fixture()
def home_copy(fitted_home: tuple[Home, Version], tmp_path: Path) -> tuple[Home, Version]:
    """A private copy of `fitted_home` that a test may change."""
    import shutil

    home, version = fitted_home
    shutil.copytree(home.root, tmp_path / "home")
    return Home.resolve(tmp_path / "home"), version
