"""The docs stay true: generated references match their generators, the guide's examples
pass the contract, and every relative link in the docs and the README resolves."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cohort.bundled import bundled_dataset
from cohort.readers import read_tables
from cohort.spec import parse_spec
from cohort.v1 import cohort_service_pb2 as pb
from cohort.validation import validate
from server import api_reference, cli_reference

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REGENERATE = "regenerate: python -m server.{} > docs/{}"


def _blocks(text: str, language: str) -> list[tuple[str, str]]:
    """(info after the language, body) of every fenced block in `language`."""
    return re.findall(rf"^```{language}([^\n]*)\n(.*?)^```", text, re.S | re.M)


def test_cli_reference_is_generated_from_the_full_parser() -> None:
    generated = cli_reference.render(cli_reference.clean_parser())
    assert (DOCS / "CLI.md").read_text() == generated, REGENERATE.format("cli_reference",
                                                                         "CLI.md")
    for command in ("cohort data ingest", "cohort fit", "cohort predict", "cohort serve",
                    "cohort client predict"):
        assert f"`{command}`" in generated


def test_cli_reference_shows_defaults_of_a_clean_environment(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COHORT_ADDRESS", "10.9.8.7:1234")
    text = cli_reference.render(cli_reference.clean_parser())
    assert "10.9.8.7" not in text and "`127.0.0.1:50051`" in text


def test_api_reference_is_generated_from_the_proto() -> None:
    generated = api_reference.render(api_reference.parse_proto())
    assert (DOCS / "API.md").read_text() == generated, REGENERATE.format("api_reference",
                                                                         "API.md")
    names = [*pb.DESCRIPTOR.services_by_name["CohortService"].methods_by_name,
             *pb.DESCRIPTOR.message_types_by_name, *pb.DESCRIPTOR.enum_types_by_name]
    assert all(f"### `{name}`" in generated for name in names)
    # a field's own comment lands in its row
    assert re.search(r"\| `flu_mg_m2_day` \| 10 \| optional `double` \| mg/m2/day; unset = "
                     r"unknown, 0 = not given\. \|", generated)


def test_guide_examples_pass_the_contract(tmp_path: Path) -> None:
    guide = (DOCS / "GUIDE.md").read_text()
    files = []
    for info, body in _blocks(guide, "csv"):
        name = re.search(r"title=(\S+)", info).group(1)
        (tmp_path / name).write_text(body)
        files.append(tmp_path / name)
        example = ROOT / "examples" / name
        if example.exists():
            assert example.read_text() == body, f"{name} differs from examples/{name}"
    assert len(files) == 3
    submitted = validate(read_tables(files), base=bundled_dataset())
    assert submitted.row_counts() == {"arms": 1, "kinetic_strata": 2, "patients": 2,
                                      "patient_kinetics": 0}
    [spec] = [json.loads(body) for _, body in _blocks(guide, "json")]
    example = json.loads((ROOT / "examples" / "allo_cd19_lbcl.json").read_text())
    assert parse_spec(spec) == parse_spec(example)


def test_relative_links_resolve() -> None:
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
    readme = (ROOT / "README.md").read_text()
    for doc in ("GUIDE.md", "MODEL.md", "CLI.md", "API.md"):
        assert f"(docs/{doc})" in readme
