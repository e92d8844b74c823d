"""How rendered files are written: YAML documents under a header that names their sources."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

COMMAND = "python -m tools.deploy render"


class _Dumper(yaml.SafeDumper):
    """Writes a value shared by two places twice, never as an anchor and an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """A string of several lines as a block (a config file in a ConfigMap reads as the file)."""
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _text)


def header(*sources: str, comment: str = "#") -> str:
    return f"{comment} Rendered by `{COMMAND}` from {', '.join(sources)}: edit those, not this file.\n"


def dump(resources: Iterable[Any], *sources: str) -> str:
    """Resources as one multi-document YAML file, in the order given, keys in their written order."""
    body = "---\n".join(yaml.dump(resource, Dumper=_Dumper, sort_keys=False, width=10_000) for resource in resources)
    return header(*sources) + body
