"""Graph's timestamp form, from a datetime and from the microsecond counts the store keeps."""

from __future__ import annotations

import pytest

from callscope.domain.timestamps import format_graph, from_microseconds, graph_timestamp, to_microseconds


@pytest.mark.parametrize("microseconds", [0, 1, 999_999, 1_763_900_000_123_456, 253_402_300_799_999_999, -1])
def test_a_microsecond_count_is_written_as_graph_writes_it(microseconds: int) -> None:
    text = graph_timestamp(microseconds)
    assert text == format_graph(from_microseconds(microseconds))
    assert len(text) == 28 and text.endswith("0Z") and to_microseconds(text) == microseconds
