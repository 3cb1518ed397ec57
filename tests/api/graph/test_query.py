"""Parsing of `$filter`, `$expand`, `$top`, `$skiptoken` and function parameters."""

from __future__ import annotations

import pytest

from callscope.api.graph.paths import parse_range, parse_target
from callscope.api.graph.query import (
    decode_skiptoken,
    encode_skiptoken,
    parse_expand,
    parse_record_filter,
    parse_top,
)
from callscope.domain.timestamps import to_microseconds
from callscope.errors import InvalidRequest, NotFound, RangeTooLarge

FUNCTIONS = frozenset({"getPstnCalls", "getDirectRoutingCalls"})


def test_filter_bounds_combine_to_the_tightest_and_keep_inclusiveness() -> None:
    query = parse_record_filter(
        "startDateTime gt 2026-01-01T00:00:00Z and startDateTime ge 2026-02-01"
        " and startDateTime lt 2026-03-01T00:00:00Z"
    )
    assert query.start_lower == (to_microseconds("2026-02-01T00:00:00+00:00"), True)
    assert query.start_upper == (to_microseconds("2026-03-01T00:00:00+00:00"), False)


def test_filter_by_participants_accepts_several_ids_joined_by_or() -> None:
    query = parse_record_filter("participants_v2/any(p:p/id eq 'a' or p/id eq 'b')")
    assert query.participant_ids == ("a", "b")


def test_a_filter_of_a_thousand_clauses_is_read_in_order() -> None:
    """`and` chains are one deep tree; walking it recursively was a 500 past about a thousand clauses."""
    bounds = [f"startDateTime ge 2026-01-{1 + n % 28:02d}T00:00:00Z" for n in range(1_200)]
    query = parse_record_filter(" and ".join([*bounds, "participants_v2/any(p:p/id eq 'last')"]))
    assert query.start_lower == (to_microseconds("2026-01-28T00:00:00+00:00"), True)
    assert query.participant_ids == ("last",)


def test_expand_nests_at_most_four_levels() -> None:
    """Each level is parsed by recursion: three hundred levels were a 500."""
    assert parse_expand("a($expand=b($expand=c($expand=d)))")[0].nested("b") is not None
    for levels in (5, 300):
        text = "sessions($expand=" * (levels - 1) + "segments" + ")" * (levels - 1)
        with pytest.raises(InvalidRequest, match="more than 4 levels"):
            parse_expand(text)


def test_nested_expand_keeps_its_options() -> None:
    (sessions, participants) = parse_expand("sessions($expand=segments;$select=id,modalities),participants_v2")
    assert sessions.name == "sessions"
    assert sessions.select == ("id", "modalities")
    assert sessions.nested("segments") is not None
    assert participants.name == "participants_v2"
    assert sessions.to_text() == "sessions($select=id,modalities;$expand=segments)"


@pytest.mark.parametrize("text", ["1.5", "-3", "", "1e3"])
def test_top_must_be_a_non_negative_integer(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_top(text)


def test_skiptokens_round_trip_and_reject_other_shapes() -> None:
    token = encode_skiptoken([10, "abc", -1])
    assert decode_skiptoken(token, (int, str, int)) == [10, "abc", -1]
    with pytest.raises(InvalidRequest):
        decode_skiptoken(token, (int, int))
    with pytest.raises(InvalidRequest):
        decode_skiptoken("%%%", (int,))


@pytest.mark.parametrize(
    "text",
    [
        "fromDateTime=2026-01-01,toDateTime=2026-01-31",
        "fromDateTime=2026-01-01T00:00:00+00:00toDateTime=2026-01-31T00:00:00+00:00",
        "toDateTime='2026-01-31',fromDateTime='2026-01-01'",
        "fromDateTime=2026-01-01T00:00:00.0000000Z, toDateTime=2026-01-31T00:00:00Z",
        "fromDateTime=2026-01-01T00:00:00,toDateTime=2026-01-31T00:00:00",
    ],
)
def test_function_parameters_in_every_form_clients_send(text: str) -> None:
    assert parse_range(text) == (to_microseconds("2026-01-01T00:00:00Z"), to_microseconds("2026-01-31T00:00:00Z"))


def test_ranges_over_90_days_are_not_acceptable() -> None:
    with pytest.raises(RangeTooLarge):
        parse_range("fromDateTime=2026-01-01,toDateTime=2026-04-02")
    assert parse_range("fromDateTime=2026-01-01,toDateTime=2026-04-01")


def test_paths_parse_into_targets() -> None:
    assert parse_target("", FUNCTIONS).kind == "records"
    assert parse_target("/$count", FUNCTIONS).count
    target = parse_target("/r1/sessions/s1/segments/$count", FUNCTIONS)
    assert (target.kind, target.record_id, target.session_id, target.count) == ("segments", "r1", "s1", True)
    assert parse_target("('r''1')/Sessions('s1')", FUNCTIONS).record_id == "r'1"
    # A key or a call is the whole segment: a final newline is kept (and names nothing), not dropped.
    with pytest.raises(NotFound):
        parse_target("/r1/sessions('s1')\n", FUNCTIONS)
    assert parse_target("/r1/sessions/s1\n", FUNCTIONS).session_id == "s1\n"
    assert parse_target("/getPstnCalls(fromDateTime=2026-01-01,toDateTime=2026-01-02)\n", FUNCTIONS).kind == "record"
    function = parse_target(
        "/microsoft.graph.callRecords.getPstnCalls(fromDateTime=2026-01-01,toDateTime=2026-01-02)", FUNCTIONS
    )
    assert function.function == "getPstnCalls"
    with pytest.raises(NotFound):
        parse_target("/getSmsLog(fromDateTime=2026-01-01,toDateTime=2026-01-02)", FUNCTIONS)
    with pytest.raises(NotFound):
        parse_target("/r1/sessions/s1/segments/g1/media", FUNCTIONS)
