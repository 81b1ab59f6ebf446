"""docs/CLI.md, generated from the installed `cohort` script's argparse parser.

    python -m server.cli_reference > docs/CLI.md

It lives in `server` because the installed script (server.cli) adds `serve` and `client` to
cohort.cli's parser, and `cohort` never imports `server`. Defaults are shown as a fresh
environment sees them: COHORT_* variables of whoever generates the file are hidden while the
parser is built, since some flags take their default from one.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from unittest import mock

from server import cli

HEADER = """# CLI reference

Generated from the argparse parser of the installed `cohort` script by
`python -m server.cli_reference > docs/CLI.md`; do not edit by hand (a test compares).
`cohort COMMAND --help` prints the same information. Options of a command go after the
command's name; global options (`--home`) go before it: `cohort --home /tmp/h data list`.
"""


def clean_parser() -> argparse.ArgumentParser:
    """The script's full parser, built without any COHORT_* environment variable."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("COHORT_")}
    with mock.patch.dict(os.environ, kept, clear=True):
        return cli.build_parser()


def _expand(text: str, action: argparse.Action) -> str:
    """Help text as argparse prints it (`%(default)s` filled in, `%%` → `%`)."""
    return text % {**vars(action), "prog": ""}


def _argument(action: argparse.Action) -> str:
    metavar = action.metavar or (action.dest if not action.option_strings
                                 else action.dest.upper())
    value = {None: metavar, "?": f"[{metavar}]", "*": f"[{metavar} ...]",
             "+": f"{metavar} [{metavar} ...]"}.get(action.nargs, metavar)  # type: ignore[arg-type]
    if not action.option_strings:
        return value
    names = ", ".join(action.option_strings)
    return names if action.nargs == 0 else f"{names} {value}"


def _default(action: argparse.Action) -> str:
    if action.required:
        return "required"
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS, ""):
        return ""
    return f"`{action.default}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = [a for a in parser._actions  # argparse has no public introspection API
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    if not rows:
        return []
    lines = ["| argument | default | description |", "|---|---|---|"]
    for action in rows:
        if isinstance(action, argparse._VersionAction):
            help_text = "print the version and exit"
        else:
            help_text = _expand(action.help or "", action)
        if action.choices is not None:
            help_text += f" (one of: {', '.join(map(str, action.choices))})"
        lines.append(f"| `{_argument(action)}` | {_default(action)} | {_cell(help_text)} |")
    return lines + [""]


def _sections(name: str, parser: argparse.ArgumentParser, summary: str | None,
              depth: int) -> Iterator[str]:
    yield f"{'#' * min(depth, 4)} `{name}`\n"
    text = parser.description or summary
    if text:
        yield _cell(text) + "\n"
    yield from _options_table(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            yield f"Commands: {', '.join(f'`{c}`' for c in action.choices)}.\n"
            for command, sub in action.choices.items():
                yield from _sections(f"{name} {command}", sub, helps.get(command), depth + 1)


def render(parser: argparse.ArgumentParser) -> str:
    """Markdown: one section per (sub)command with its description and arguments."""
    return HEADER + "\n" + "\n".join(_sections(parser.prog, parser, None, 2))


def main() -> int:
    sys.stdout.write(render(clean_parser()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
