"""Builds the app in each server worker process from the environment the parent set."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette

from callscope.app import create_app
from callscope.config import Settings, call_test_targets_from_env, external_issuers_from_env, live_call_timing_from_env


def app_from_env() -> Starlette:
    """The application, configured by CALLSCOPE_* variables."""
    settings = Settings(
        data_dir=Path(os.environ.get("CALLSCOPE_DATA_DIR", "callscope-data")),
        database_url=os.environ.get("CALLSCOPE_DATABASE_URL") or None,
        public_base_url=os.environ.get("CALLSCOPE_PUBLIC_BASE_URL") or None,
        external_issuers=external_issuers_from_env(),
        **live_call_timing_from_env(),  # type: ignore[arg-type]
        test_call_targets=call_test_targets_from_env(),
    )
    return create_app(settings)
