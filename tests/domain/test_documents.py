"""The syntax checks documents are decoded with (a timestamp they accept is a real moment), and the
`@odata.type` given to values of open types, which are kept as plain objects."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import msgspec
import pytest

from callscope.domain.documents import DATE_TIME_PATTERN, DURATION_PATTERN, DocumentTypes
from callscope.services.schemas import load_schemas
from tests.support.documents import demo_records

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


IDENTITY_SET = "microsoft.graph.identitySet"


@pytest.fixture(scope="module")
def types() -> DocumentTypes:
    return load_schemas().documents


def filled(types: DocumentTypes, value: dict[str, Any], type_name: str = IDENTITY_SET) -> dict[str, Any]:
    types.fill_open_types(value, type_name)
    return value


def test_an_open_value_without_a_type_gets_its_property_s_type_and_so_do_the_values_inside(
    types: DocumentTypes,
) -> None:
    value = filled(types, {"user": {"id": "u"}, "device": None, "custom": {"id": "d"}})
    assert value == {
        "user": {"id": "u", "@odata.type": "#microsoft.graph.identity"},
        "device": None,
        "custom": {"id": "d"},  # a property the type does not declare is left as it came
        "@odata.type": "#microsoft.graph.identitySet",
    }


def test_a_declared_subtype_is_kept_and_its_own_properties_are_visited(types: DocumentTypes) -> None:
    value = filled(types, {"@odata.type": "#microsoft.graph.communicationsIdentitySet", "phone": {"id": "+1"}})
    assert value["@odata.type"] == "#microsoft.graph.communicationsIdentitySet"
    assert value["phone"]["@odata.type"] == "#microsoft.graph.identity"  # declared by the subtype only


def test_a_declared_type_with_nothing_open_inside_visits_nothing(types: DocumentTypes) -> None:
    value = filled(types, {"@odata.type": "#microsoft.graph.identity", "user": {"id": "u"}})
    assert value["user"] == {"id": "u"}


@pytest.mark.parametrize("declared", ["#contoso.unknown", 5, ["#microsoft.graph.identity"], None])
def test_a_type_outside_the_model_is_kept_and_the_property_s_type_says_what_to_visit(
    types: DocumentTypes, declared: object
) -> None:
    value = filled(types, {"@odata.type": declared, "user": {"id": "u"}})
    assert value["@odata.type"] == declared
    assert value["user"]["@odata.type"] == "#microsoft.graph.identity"


def test_open_values_inside_a_decoded_record_are_filled(types: DocumentTypes) -> None:
    record = demo_records(1, seed=3)[0]
    record["organizer"] = {"user": {"id": "u"}}
    record["participants_v2"][0]["identity"] = {"user": {"id": "p"}}
    record["sessions"][0]["caller"]["identity"] = {"user": {"id": "p"}}
    name = "microsoft.graph.callRecords.callRecord"
    value = msgspec.json.decode(msgspec.json.encode(record), type=types.struct(name))
    types.fill_open_types(value, name)
    assert value.organizer == {
        "user": {"id": "u", "@odata.type": "#microsoft.graph.identity"},
        "@odata.type": "#microsoft.graph.identitySet",
    }
    assert value.participants_v2[0].identity["@odata.type"] == "#microsoft.graph.communicationsIdentitySet"
    assert value.sessions[0].caller.identity["user"]["@odata.type"] == "#microsoft.graph.identity"
