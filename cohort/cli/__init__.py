"""The `cohort` command line: argument parsing and printing only; work lives in the library.

The installed `cohort` script is server.cli:main, which adds `serve` and `client` (they
need gRPC, which this package never imports) through `build_parser(extra)`;
`python -m cohort` runs the domain commands alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from cohort import RESEARCH_USE_NOTICE, __version__
from cohort.cli import bench, data, models, predict, validate
from cohort.errors import CohortError, InvalidArgument

EXIT_INVALID = 2
EXIT_ERROR = 1


Register = Callable[[argparse._SubParsersAction], None]


def build_parser(extra: Sequence[Register] = ()) -> argparse.ArgumentParser:
    """The domain's subcommands, then each of `extra` (a function adding subcommands)."""
    parser = argparse.ArgumentParser(
        prog="cohort",
        description="Virtual-cohort outcome model for cell-therapy research. "
        + RESEARCH_USE_NOTICE,
    )
    parser.add_argument("--version", action="version", version=f"cohort {__version__}")
    parser.add_argument(
        "--home", help="state directory (store and model versions); default $COHORT_HOME "
        "or ~/.cohort")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data.register(commands)
    models.register(commands)
    validate.register(commands)
    predict.register(commands)
    for register in extra:
        register(commands)
    if "bench" not in commands.choices:  # the server's CLI adds its serve and startup suites
        bench.register(commands)
    return parser


def report(error: CohortError) -> int:
    """Print a domain error for a person; the exit code says what kind it was."""
    if isinstance(error, InvalidArgument):
        print(f"error: {len(error.violations)} problem(s) found", file=sys.stderr)
        print(data.violation_table(error.violations), file=sys.stderr)
        return EXIT_INVALID
    print(f"error ({error.reason}): {error}", file=sys.stderr)
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None, extra: Sequence[Register] = ()) -> int:
    args = build_parser(extra).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CohortError as error:
        return report(error)
