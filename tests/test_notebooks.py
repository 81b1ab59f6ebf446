"""The notebooks run top to bottom (tiny fit configuration) and are committed without outputs.

Each notebook runs in its own kernel; the kernels share this session's persistent JAX
compile cache (conftest), so a program already compiled by another fit is not compiled again.
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import nbformat
import pytest
from nbclient import NotebookClient

from cohort import RESEARCH_USE_NOTICE

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CELL_TIMEOUT_S = 1500  # the fit cell: a tiny fit takes minutes on a loaded 2-core CPU


def _committed() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _text(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell showed: streams and the text form of results."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {})
               for cell in nb.cells for output in cell.get("outputs", []))


@pytest.fixture()
def run_notebook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # noqa: ANN201
    """Execute a committed notebook in a fresh kernel; returns it with outputs and the
    seconds it took (the executed copy is kept in tmp_path for inspection)."""
    monkeypatch.setenv("COHORT_NOTEBOOK_FIT", "tiny")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' temporary homes land here
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(jax.config.jax_compilation_cache_dir))
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")

    def run(name: str) -> tuple[nbformat.NotebookNode, float]:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        started = time.perf_counter()
        try:
            NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        finally:
            nbformat.write(nb, tmp_path / name)
        seconds = time.perf_counter() - started
        print(f"{name}: executed in {seconds:.0f} s")
        return nb, seconds

    return run


def test_every_committed_notebook_is_stripped_and_uses_only_the_library() -> None:
    assert [p.name for p in _committed()] == [
        "01_quickstart.ipynb", "02_refit_new_trial.ipynb", "03_validation.ipynb"]
    for path in _committed():
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            assert cell.outputs == [] and cell.execution_count is None, path.name
            assert "numpyro" not in cell.source, f"{path.name}: model code in a notebook"


def test_quickstart_answers_the_question(run_notebook) -> None:  # noqa: ANN001
    nb, _ = run_notebook("01_quickstart.ipynb")
    shown = "\n".join(_text(cell) for cell in nb.cells if cell.cell_type == "code")
    assert "fit configuration 'tiny'" in shown
    assert ": FAILED;" in shown and "gate FAILED" in shown  # tiny fits never pass the gate
    for answer in ("CR: population rate", "CRS grade >=3: population rate"):
        line = next(line for line in shown.splitlines() if line.startswith(answer))
        assert "in a trial of 30 patients" in line and "P(at least 10)" in line
    assert RESEARCH_USE_NOTICE in shown
    assert _images(nb) == 3  # trace, forest, Flu dose-response


def test_validation_runs_ppc_and_loto(run_notebook) -> None:  # noqa: ANN001
    nb, _ = run_notebook("03_validation.ipynb")
    shown = "\n".join(_text(cell) for cell in nb.cells if cell.cell_type == "code")
    assert "coverage90" in shown and "tail_probability" in shown
    assert "refit without ALPHA" in shown and "lpd_gain" in shown
    assert _images(nb) == 2  # PPC, calibration
    assert RESEARCH_USE_NOTICE in shown


def test_refit_notebook_submits_refits_and_compares(run_notebook) -> None:  # noqa: ANN001
    nb, _ = run_notebook("02_refit_new_trial.ipynb")
    shown = "\n".join(_text(cell) for cell in nb.cells if cell.cell_type == "code")
    assert "SERVING" in shown and "retry replayed: True" in shown
    for phase in ("OPERATION_PHASE_WARMUP", "OPERATION_PHASE_SAMPLING"):
        assert phase in shown
    # a tiny refit fails the gate: kept, never promoted, the first version keeps serving
    assert "gate FAILED" in shown and "promoted: False" in shown
    assert shown.count("CR: population rate") == 2  # before and after
    assert _images(nb) == 1 and "server exit code 0" in shown
    assert RESEARCH_USE_NOTICE in shown
