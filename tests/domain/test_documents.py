"""The syntax checks documents are decoded with: a timestamp they accept is a real moment."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from callscope.domain.documents import DATE_TIME_PATTERN, DURATION_PATTERN

TIMESTAMP = re.compile(DATE_TIME_PATTERN)
DURATION = re.compile(DURATION_PATTERN)
YEARS = ["0000", "0001", "1900", "2000", "2023", "2024", "2025", "2100", "2400", "9999"]


def readable(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_every_calendar_date_is_accepted_exactly_when_it_exists() -> None:
    """Months 00-13 and days 00-32 of leap, non-leap and century years, against Python's calendar."""
    for year in YEARS:
        for month in range(14):
            for day in range(33):
                text = f"{year}-{month:02d}-{day:02d}T10:11:12Z"
                assert bool(TIMESTAMP.match(text)) == readable(text), text


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-30T10:11:12.1234567Z",  # Graph writes seven fractional digits
        "2026-11-30T10:11:12Z",
        "2026-11-30T10:11Z",
        "2026-11-30T23:59:59.5+05:30",
        "2026-11-30T00:00:00-23:59",
    ],
)
def test_the_timestamps_graph_writes_are_accepted(text: str) -> None:
    assert TIMESTAMP.match(text)
    assert readable(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-30T24:00:00Z",
        "2026-11-30T10:60:00Z",
        "2026-11-30T10:11:60Z",
        "2026-11-30T10:11:12+24:00",
        "2026-11-30T10:11:12.12345678Z",  # eight fractional digits
        "2026-11-30T10:11:12",  # no offset: Edm.DateTimeOffset needs one
        "2026-11-30",
        "\u0662\u0660\u0662\u0666-11-30T10:11:12Z",  # digits of another script
        "2026-11-30T10:11:12Z\n",
    ],
)
def test_impossible_or_incomplete_timestamps_are_refused(text: str) -> None:
    assert not TIMESTAMP.match(text)


@pytest.mark.parametrize("text", ["PT0.015S", "PT1H2M3.5S", "P1DT2H", "P3D", "-PT5S", "PT0S"])
def test_durations_graph_writes_are_accepted(text: str) -> None:
    assert DURATION.match(text)


@pytest.mark.parametrize("text", ["P", "PT", "PT1.S", "1S", "PT\u0663S", "P1Y", "fast", "PT1H2M3.5S ", "PT5S\n"])
def test_malformed_durations_are_refused(text: str) -> None:
    assert not DURATION.match(text)
