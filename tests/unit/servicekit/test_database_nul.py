"""PostgreSQL text cannot hold NUL: the engine refuses such a value as bad input (422), not a driver error (500)."""

from __future__ import annotations

import pytest

from servicekit.database import NulInText, refuse_nul


@pytest.mark.parametrize(
    "parameters", [("a\x00",), {"name": "\x00"}, [("ok",), ("x\x00y",)], [{"a": "b", "c": "\x00"}]]
)
def test_a_nul_anywhere_among_the_parameters_is_refused_as_invalid_input(parameters: object) -> None:
    with pytest.raises(NulInText) as refused:
        refuse_nul(parameters)
    assert (refused.value.status, refused.value.code) == (422, "NUL_IN_TEXT")


@pytest.mark.parametrize("parameters", [(), ("plain", 1, None, b"\x00bytes"), {"name": "Ada"}, [("a",), ("b",)], None])
def test_parameters_without_a_nul_in_text_pass(parameters: object) -> None:
    refuse_nul(parameters)
