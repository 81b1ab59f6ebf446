"""The README's two commands are the ones CI and users run; keep them true."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_command(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", text, re.S)
    assert match, f"README has no {marker}"
    return match.group(1).strip()


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.count("<!-- main-command -->") == text.count("<!-- test-command -->") == 1
    assert "pytest" in readme_command("test-command")
    result = subprocess.run(["bash", ".ci/run", "--print"], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == readme_command("test-command")


def test_main_command_runs_on_embedded_defaults(tmp_path: Path) -> None:
    """Runs the README's main job (after its install step) with the installed script."""
    job = readme_command("main-command").split("&&")[-1].strip()
    program, *args = shlex.split(job)
    script = Path(program).name
    env = {"COHORT_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    bindir = Path(__import__("sys").executable).parent
    result = subprocess.run([str(bindir / script), *args], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Research use only" in result.stdout
    assert (tmp_path / "home" / "store.sqlite").exists()
