"""`python -m tools.servers up|down|run-file`: see the package's docstring."""

import sys

from tools.servers import main

main(sys.argv)
