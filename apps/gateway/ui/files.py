"""The files `/ui` serves: the page's own (static/), and the front-end library `make setup` copies (vendor/).

Both folders are listed once, when the gateway is built: a request names one of those files or gets a
404, and no path is ever made from what a client sent, so `..`, `%2e%2e` or a symlink lead nowhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from servicekit import NotFound
from servicekit.errors import DependencyUnavailable

HERE = Path(__file__).parent
STATIC = HERE / "static"
"""The page's own files, committed: its HTML, CSS and JavaScript modules."""
VENDOR = HERE / "vendor"
"""Untracked: what tools/ui/install copies out of `npm ci` (package.json's `vendor` field)."""
PACKAGE = HERE / "package.json"
PAGE = "index.html"
VENDOR_PREFIX = "vendor/"
MEDIA_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8",
    # Module scripts load only with a JavaScript media type (nosniff makes the browser hold us to it).
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
"""What is served, by suffix; any other file in the folders is not."""


class UiFileNotFound(NotFound):
    """Raised when a path under `/ui/` names none of the page's files."""

    default_code = "UI_FILE_NOT_FOUND"


class UiNotInstalled(DependencyUnavailable):
    """Raised when the page is asked for but the front-end library it imports was never copied (`make setup`)."""

    default_code = "UI_NOT_INSTALLED"


@dataclass(frozen=True)
class UiFile:
    path: Path
    media_type: str


def vendored_names(package: Path = PACKAGE) -> tuple[str, ...]:
    """The files the set-up copies into vendor/, as package.json's `vendor` field names them."""
    vendor: dict[str, str] = json.loads(package.read_text())["vendor"]
    return tuple(vendor)


def _listed(folder: Path, prefix: str = "") -> dict[str, UiFile]:
    if not folder.is_dir():
        return {}
    return {
        prefix + path.relative_to(folder).as_posix(): UiFile(path, MEDIA_TYPES[path.suffix])
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink() and path.suffix in MEDIA_TYPES
    }


class UiFiles:
    """The page's files by the name they are served under (`app.js`, `vendor/preact.mjs`)."""

    def __init__(self, static: Path = STATIC, vendor: Path = VENDOR, *, vendored: tuple[str, ...] = ()) -> None:
        self._files = {**_listed(static), **_listed(vendor, VENDOR_PREFIX)}
        self.missing = tuple(name for name in vendored if VENDOR_PREFIX + name not in self._files)
        """Vendored files the page imports that the set-up has not copied."""

    @classmethod
    def installed(cls) -> UiFiles:
        """The files shipped beside this module, expecting every one package.json vendors."""
        return cls(vendored=vendored_names())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._files)

    def page(self) -> UiFile:
        """The HTML page; refused while a file it imports is missing, rather than a page that cannot start."""
        if self.missing:
            raise UiNotInstalled(
                "The operator page's front-end library is not installed: run `make setup`.",
                details={"missing": [VENDOR_PREFIX + name for name in self.missing]},
            )
        return self.get(PAGE)

    def get(self, name: str) -> UiFile:
        found = self._files.get(name)
        if found is None:
            raise UiFileNotFound("The operator page has no such file.")
        return found
