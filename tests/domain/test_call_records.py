"""The version rule: per id, only a version higher than the stored one and earlier lines' is written."""

from __future__ import annotations

from callscope.domain.call_records import StoredRecord, plan_writes


def record(record_id: str, version: int) -> StoredRecord:
    return StoredRecord(record_id, version, 0, 0, frozenset(), b"{}")


def test_new_ids_are_written_and_nothing_is_replaced() -> None:
    plan = plan_writes([record("a", 1), record("b", 1)], {})
    assert [r.id for r in plan.writes] == ["a", "b"]
    assert plan.replaced == frozenset()
    assert plan.ignored == 0


def test_a_higher_version_replaces_and_lower_or_equal_ones_are_ignored() -> None:
    plan = plan_writes([record("a", 3), record("b", 2), record("c", 1)], {"a": 2, "b": 2, "c": 5})
    assert [r.id for r in plan.writes] == ["a"]
    assert plan.replaced == {"a"}
    assert plan.ignored == 2


def test_within_one_batch_the_highest_version_of_an_id_wins() -> None:
    plan = plan_writes([record("a", 1), record("a", 4), record("a", 2)], {})
    assert [(r.id, r.version) for r in plan.writes] == [("a", 4)]
    assert plan.ignored == 2
