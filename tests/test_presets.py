"""Named fit configurations."""

from __future__ import annotations

import pytest

from cohort.errors import InvalidArgument
from cohort.fit import FitConfig
from cohort.presets import fit_preset


def test_default_is_the_production_config_and_tiny_is_small() -> None:
    assert fit_preset("default") == FitConfig()
    tiny = fit_preset("tiny")
    # too few draws to ever reach the gate's ESS >= 400: tiny versions are never served
    assert tiny.num_chains * tiny.num_samples < 400


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidArgument) as error:
        fit_preset("huge")
    assert "default" in error.value.violations[0].rule and "tiny" in error.value.violations[0].rule
