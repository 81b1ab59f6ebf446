"""The curated, source-cited published arms shipped with the package (see data/README.md)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from cohort.dataset import Dataset
from cohort.readers import read_frame
from cohort.validation import validate


@cache
def bundled_dataset() -> Dataset:
    """The bundled arms and kinetic strata, validated (it is a bug if they are not)."""
    folder = resources.files("cohort") / "data"
    with resources.as_file(folder) as path:
        raw = {name: read_frame(path / f"{name}.csv") for name in ("arms", "kinetic_strata")}
    return validate(raw)
