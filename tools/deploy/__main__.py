"""`python -m tools.deploy render|check|compose-secrets`: see the package's docstring."""

import sys

from tools.deploy import render
from tools.deploy.compose_secrets import prepare


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "render":
        for line in render.write() or ["deploy/ is up to date"]:
            print(line)
    elif command == "check":
        differences = render.differences()
        for line in differences:
            print(f"out of date: {line}", file=sys.stderr)
        if differences:
            print("run `python -m tools.deploy render`", file=sys.stderr)
            return 1
    elif command == "compose-secrets":
        print(f"docker compose reads its keys, tokens and certificates from {prepare()}")
    else:
        print(sys.modules["tools.deploy"].__doc__, file=sys.stderr)
        return 2
    return 0


sys.exit(main(sys.argv))
