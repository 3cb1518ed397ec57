"""Whole numbers from query strings, headers and ids."""

from __future__ import annotations

import pytest

from callscope.domain.integers import MAX_DIGITS, non_negative


@pytest.mark.parametrize(
    ("text", "value"), [("0", 0), ("7", 7), ("0042", 42), ("9" * MAX_DIGITS, int("9" * MAX_DIGITS))]
)
def test_ascii_digits_are_read(text: str, value: int) -> None:
    assert non_negative(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "-1", "+1", " 1", "1 ", "1.0", "1e3", "\u00b2", "\u0663", "\uff11", "9" * (MAX_DIGITS + 1), "9" * 5000],
)
def test_anything_else_is_refused_without_raising(text: str) -> None:
    assert non_negative(text) is None
