"""Settings read from CALLSCOPE_* environment variables."""

from __future__ import annotations

from pathlib import Path

from callscope.config import call_test_targets_from_env, live_call_timing_from_env, settings_from_env


def test_test_call_targets_are_a_comma_separated_list_of_sip_uris() -> None:
    env = {"CALLSCOPE_TEST_CALL_TARGETS": " sip:Echo@Example.com, ,sip:test@example.com"}
    assert call_test_targets_from_env(env) == ("sip:echo@example.com", "sip:test@example.com")
    assert call_test_targets_from_env({}) == ()


def test_live_call_timing_comes_from_the_environment_where_set() -> None:
    env = {"CALLSCOPE_EVENT_CHANNEL_FLOOR_SECONDS": "0", "CALLSCOPE_RING_TIMEOUT_SECONDS": "2.5"}
    assert live_call_timing_from_env(env) == {"event_channel_floor_seconds": 0, "ring_timeout_seconds": 2.5}
    assert live_call_timing_from_env({}) == {}


def test_settings_from_env_take_the_command_line_and_every_callscope_variable(tmp_path: Path) -> None:
    env = {
        "CALLSCOPE_SHARED_STORE": "1",
        "CALLSCOPE_RING_TIMEOUT_SECONDS": "4",
        "CALLSCOPE_TEST_CALL_TARGETS": "sip:echo@example.com",
    }
    settings = settings_from_env(tmp_path, None, "https://calls.example.com", env)
    assert (settings.data_dir, settings.public_base_url) == (tmp_path, "https://calls.example.com")
    assert settings.shared_store and settings.ring_timeout_seconds == 4.0
    assert settings.test_call_targets == ("sip:echo@example.com",)
    alone = settings_from_env(tmp_path, None, None, {"CALLSCOPE_SHARED_STORE": "0"})
    assert not alone.shared_store and alone.event_channel_floor_seconds == 180
