"""Where all state lives: one home directory (COHORT_HOME, default ~/.cohort, or --home)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, explicit: str | Path | None = None) -> Home:
        """--home wins, then COHORT_HOME, then ~/.cohort; created on first use."""
        chosen = explicit or os.environ.get("COHORT_HOME") or Path.home() / ".cohort"
        root = Path(chosen).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        return cls(root)

    @property
    def store_path(self) -> Path:
        return self.root / "store.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def compile_cache(self) -> Path:
        """JAX's persistent compilation cache (fit.use_compile_cache)."""
        return self.root / "compile-cache"

    @property
    def operations_dir(self) -> Path:
        return self.root / "operations"
