"""Builds the app in each server worker process from the environment the parent set."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette

from callscope.app import create_app
from callscope.config import settings_from_env


def app_from_env() -> Starlette:
    """The application, configured by CALLSCOPE_* variables."""
    settings = settings_from_env(
        Path(os.environ.get("CALLSCOPE_DATA_DIR", "callscope-data")),
        os.environ.get("CALLSCOPE_DATABASE_URL") or None,
        os.environ.get("CALLSCOPE_PUBLIC_BASE_URL") or None,
    )
    return create_app(settings)
