"""deploy/ is what `python -m tools.deploy render` makes from dapr.yaml, components/ and config/ today."""

from __future__ import annotations

from pathlib import Path

from tools.deploy import render

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_files_are_a_fresh_render() -> None:
    assert render.differences() == [], "run `.venv/bin/python -m tools.deploy render`"


def test_a_changed_or_stray_file_is_reported(tmp_path: Path) -> None:
    files = render.rendered()
    some_path = next(iter(files))
    changed = {**files, some_path: files[some_path] + "# edited\n"}
    assert render.differences(changed) == [str(some_path.relative_to(ROOT))]


def test_every_rendered_file_names_its_sources() -> None:
    for path, text in render.rendered().items():
        assert "Rendered by `python -m tools.deploy render` from " in text.splitlines()[0], path
