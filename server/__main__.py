"""`python -m server [flags]`: the same as `cohort serve [flags]` (see server.settings)."""

import sys

from server.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
