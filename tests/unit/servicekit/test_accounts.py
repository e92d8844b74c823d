"""servicekit.accounts: canonical emails, the password policy and tidy names, as identity and admin use them."""

from __future__ import annotations

import pytest

from servicekit import ValidationFailed
from servicekit.accounts import PASSWORD_MAX, PASSWORD_MIN, check_password, clean_name, normalise_email

THAI_NAME = "โรงเรียนสาธิตแห่งมหาวิทยาลัย"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ada@Example.COM", "ada@example.com"),
        ("  grace.hopper@example.org \n", "grace.hopper@example.org"),
        ("MiXeD.Local+Tag@Sub.Example.Net", "mixed.local+tag@sub.example.net"),
        ("  Principal@School.Example ", "principal@school.example"),
    ],
)
def test_normalise_email_returns_one_lower_case_form(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "not-an-email", "a@", "@example.com", "a b@example.com", "a@@example.com", "a@b", "no-at-sign"]
)
def test_normalise_email_rejects_junk(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_email(raw)
    assert (caught.value.status, caught.value.code) == (422, "INVALID_EMAIL")
    assert caught.value.details == [{"field": "email", "message": caught.value.message}]


def test_a_refused_email_names_the_callers_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_email("not-an-email", field="adminEmail")
    assert caught.value.details[0]["field"] == "adminEmail"


@pytest.mark.parametrize("password", ["p" * PASSWORD_MIN, "p" * (PASSWORD_MIN + 1), "p" * PASSWORD_MAX, "รหัสผ่านยาวพอ"])
def test_password_within_bounds_is_accepted(password: str) -> None:
    check_password(password)


@pytest.mark.parametrize("length", [0, PASSWORD_MIN - 1, PASSWORD_MAX + 1])
def test_password_outside_bounds_is_weak(length: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_password("p" * length, field="adminPassword")
    assert (caught.value.status, caught.value.code) == (422, "WEAK_PASSWORD")
    assert caught.value.message == "The password must have 8 to 128 characters."
    assert caught.value.details == [{"field": "adminPassword", "message": caught.value.message}]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  Grace   Hopper ", "Grace Hopper"), ("Ada\tLovelace\n", "Ada Lovelace"), ("Alan", "Alan")],
)
def test_clean_name_collapses_whitespace(raw: str, expected: str) -> None:
    assert clean_name(raw, longest=100) == expected


def test_clean_name_measures_the_collapsed_name() -> None:
    padded = "a" + " " * 50 + "b" * 98
    assert clean_name(padded, longest=100) == "a " + "b" * 98


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "x" * 101])
def test_clean_name_rejects_empty_or_too_long(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_name(raw, longest=100)
    assert (caught.value.status, caught.value.code) == (422, "INVALID_NAME")
    assert caught.value.message == "The name must have 1 to 100 characters."
    assert caught.value.details == [{"field": "name", "message": caught.value.message}]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (THAI_NAME, THAI_NAME),
        ("  โรงเรียน   บ้านหนองบัว  ", "โรงเรียน บ้านหนองบัว"),
        ("École\tSaint-Exupéry", "École Saint-Exupéry"),
        ("E\u0301cole", "\u00c9cole"),
        ("学校", "学校"),
        ("x" * 200, "x" * 200),
    ],
)
def test_printable_names_in_any_script_are_trimmed_composed_and_kept(raw: str, clean: str) -> None:
    assert clean_name(raw, longest=200, printable=True) == clean


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "x" * 201, "bad\x00name", "bell\x07"])
def test_empty_long_or_control_names_are_refused_when_printable(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_name(raw, longest=200, printable=True)
    assert (caught.value.status, caught.value.code) == (422, "INVALID_NAME")
    assert caught.value.message == "The name must have 1 to 200 printable characters."
