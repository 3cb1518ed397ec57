"""Settings, built once by the CLI (or a test) and passed to whatever needs them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path("callscope-data")


@dataclass(frozen=True)
class ExternalIssuer:
    """A token issuer other than callscope itself, e.g. a Microsoft Entra ID tenant."""

    issuer: str
    audience: str
    jwks_url: str | None = None
    public_key_pem: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything callscope can be configured with."""

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    public_base_url: str | None = None  # what nextLinks start with; default: the request's own
    max_body_bytes: int = 64 * 1024 * 1024
    response_cache_bytes: int = 128 * 1024 * 1024
    # Lowest P-GET timeout/medium/low (seconds) a client may ask for; UCWA's own floors are
    # 180/5/5. Tests lower it to keep waits short.
    event_channel_floor_seconds: int = 180
    ring_timeout_seconds: float = 30.0  # an unanswered call ends after this long
    # How long a write waits for SQLite's one write lock before it is answered 503 (try again).
    sqlite_busy_timeout_seconds: float = 30.0
    ucwa_requests_per_second: float = 200.0  # per user, averaged; more is 429 TooManyRequests
    ucwa_request_burst: float = 1000.0
    external_issuers: tuple[ExternalIssuer, ...] = field(default_factory=tuple)
    # SIP URIs of test-call services: calls to them are recorded with `isTest` true.
    test_call_targets: tuple[str, ...] = ()
    # Change notifications: the first retry of a failed delivery (each next one waits twice as
    # long, at most 10 minutes), and how long delivery is tried before the subscription is removed.
    notification_retry_seconds: float = 1.0
    notification_give_up_seconds: float = 4 * 3600.0
    # Other server processes use the same SQLite file (`serve --workers N`, or CALLSCOPE_SHARED_STORE=1
    # for servers started apart): each watches it for the events the others store. PostgreSQL always does.
    shared_store: bool = False

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'callscope.sqlite3').resolve()}"


def normalize_database_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def settings_from_env(
    data_dir: Path, database_url: str | None, public_base_url: str | None, environ: dict[str, str] | None = None
) -> Settings:
    """The command line's settings with what CALLSCOPE_* variables (or `environ`) configure besides."""
    timing = live_call_timing_from_env(environ)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        public_base_url=public_base_url,
        external_issuers=external_issuers_from_env(environ),
        event_channel_floor_seconds=int(
            timing.get("event_channel_floor_seconds", Settings.event_channel_floor_seconds)
        ),
        ring_timeout_seconds=timing.get("ring_timeout_seconds", Settings.ring_timeout_seconds),
        test_call_targets=call_test_targets_from_env(environ),
        shared_store=shared_store_from_env(environ),
    )


def live_call_timing_from_env(environ: dict[str, str] | None = None) -> dict[str, float]:
    """Event-channel floor and ring timeout from CALLSCOPE_* variables, where set."""
    env = os.environ if environ is None else environ
    timing: dict[str, float] = {}
    if env.get("CALLSCOPE_EVENT_CHANNEL_FLOOR_SECONDS"):
        timing["event_channel_floor_seconds"] = int(env["CALLSCOPE_EVENT_CHANNEL_FLOOR_SECONDS"])
    if env.get("CALLSCOPE_RING_TIMEOUT_SECONDS"):
        timing["ring_timeout_seconds"] = float(env["CALLSCOPE_RING_TIMEOUT_SECONDS"])
    return timing


def shared_store_from_env(environ: dict[str, str] | None = None) -> bool:
    """CALLSCOPE_SHARED_STORE: 1 (or true, yes) when several server processes share one SQLite file."""
    env = os.environ if environ is None else environ
    return env.get("CALLSCOPE_SHARED_STORE", "").strip().lower() in ("1", "true", "yes")


def call_test_targets_from_env(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """CALLSCOPE_TEST_CALL_TARGETS: SIP URIs separated by commas."""
    env = os.environ if environ is None else environ
    return tuple(part.strip().lower() for part in env.get("CALLSCOPE_TEST_CALL_TARGETS", "").split(",") if part.strip())


def external_issuers_from_env(environ: dict[str, str] | None = None) -> tuple[ExternalIssuer, ...]:
    """One external issuer from CALLSCOPE_OIDC_* variables, if they are set."""
    env = os.environ if environ is None else environ
    issuer = env.get("CALLSCOPE_OIDC_ISSUER")
    if not issuer:
        return ()
    pem_file = env.get("CALLSCOPE_OIDC_PUBLIC_KEY_FILE")
    return (
        ExternalIssuer(
            issuer=issuer,
            audience=env.get("CALLSCOPE_OIDC_AUDIENCE", "https://graph.microsoft.com"),
            jwks_url=env.get("CALLSCOPE_OIDC_JWKS_URL"),
            public_key_pem=Path(pem_file).read_text() if pem_file else None,
        ),
    )
