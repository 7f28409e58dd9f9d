"""``python -m augurdb``: the same command line as the ``augurdb`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
