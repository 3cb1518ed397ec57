"""Whole numbers as query strings, headers and ids write them."""

from __future__ import annotations

MAX_DIGITS = 18  # every value fits a signed 64-bit column, far below what `int` refuses to parse (4,300 digits)


def non_negative(text: str) -> int | None:
    """The non-negative integer `text` spells in ASCII digits, or None for anything else.

    `str.isdigit` alone is not enough: it is true for superscripts and other scripts' digits, which
    `int` then refuses (`"²"`) or reads (`"٣"`), and `int` raises on thousands of digits.
    """
    if 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None
