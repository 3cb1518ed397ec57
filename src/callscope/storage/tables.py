"""The tables; every key starts with the tenant."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

call_records = Table(
    "call_records",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("document", LargeBinary, nullable=False),
    Index("ix_call_records_start", "tenant_id", "start_us", "id"),
)

# One tree, the key itself (no rowid on SQLite): a participant's records in start-time order, which is
# exactly what a page of `participants_v2/any(p:p/id eq '...')` reads (decision 0001).
call_record_participants = Table(
    "call_record_participants",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("participant_id", String(128), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("record_id", String(128), nullable=False),
    PrimaryKeyConstraint("tenant_id", "participant_id", "start_us", "record_id", name="call_record_participants_pkey"),
    sqlite_with_rowid=False,
)

log_rows = Table(
    "log_rows",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("row_key", String(200), primary_key=True),
    Column("start_us", BigInteger, nullable=False),
    Column("document", LargeBinary, nullable=False),
    Index("ix_log_rows_start", "tenant_id", "kind", "start_us", "row_key"),
)

users = Table(
    "users",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("uri", String(256), primary_key=True),  # sip:alice@example.com
    Column("display_name", String(256), nullable=False),
    Column("password_hash", String(256), nullable=True),
    Index("ux_users_uri", "uri", unique=True),  # sign-in names are unique across tenants
)

applications = Table(
    "applications",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("user_uri", String(256), nullable=False),
    Column("user_agent", String(100), nullable=False),
    Column("endpoint_id", String(100), nullable=False),
    Column("culture", String(100), nullable=False),
    Column("instance_id", String(100), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("last_seen_us", BigInteger, nullable=False),
    Column("parked_until_us", BigInteger, nullable=True),  # a long P-GET keeps the application alive until then
    Column("pget_timing", String(200), nullable=True),  # JSON: the P-GET parameters last given (sticky)
    Column("modalities", String(200), nullable=True),  # set by makeMeAvailable: reachable from then on
    Column("batch", BigInteger, nullable=False, server_default="0"),
    Column("batch_last_id", BigInteger, nullable=False, server_default="0"),
    Column("acked_id", BigInteger, nullable=False, server_default="0"),
    Index("ux_applications_endpoint", "tenant_id", "user_uri", "endpoint_id", unique=True),
)

# One global, increasing id orders every application's events. Ids are never given twice: a channel
# asks for the events after the last id it acknowledged, so a reused id would hide an event from it.
# SQLite reuses the largest rowid once its row is deleted unless the table says AUTOINCREMENT.
events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("application_id", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Index("ix_events_application", "tenant_id", "application_id", "id"),
    sqlite_autoincrement=True,
)

calls = Table(
    "calls",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("caller_app", String(64), nullable=False),
    Column("caller_uri", String(256), nullable=False),
    Column("callee_uri", String(256), nullable=False),
    Column("subject", String(256), nullable=True),
    Column("operation_id", String(64), nullable=True),
    Column("caller_context", String(64), nullable=True),
    Column("offer_sdp", Text, nullable=False),
    Column("modalities", String(200), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("offered", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("answered_by", String(64), nullable=True),
    Column("callee_context", String(64), nullable=True),
    Column("answer_sdp", Text, nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("connected_us", BigInteger, nullable=True),
    Column("ended_us", BigInteger, nullable=True),
    Column("renegotiation", Text, nullable=True),  # JSON of the pending offer
    Column("held_by", String(64), nullable=True),
    Column("feedback", Text, nullable=False, server_default="{}"),  # JSON, by application id
    Column("revision", Integer, nullable=False, server_default="0"),  # optimistic concurrency
    Column("provisional_sdp", Text, nullable=True),
    Column("session_number", Integer, nullable=False, server_default="0"),  # 0: the conversation's first
    Index("ix_calls_state", "state", "created_us"),
)


contact_groups = Table(
    "contact_groups",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("user_uri", String(256), primary_key=True),
    Column("number", Integer, primary_key=True),  # 2..64; 1 is the default group, never stored
    Column("name", String(256), nullable=False),
    Column("name_key", String(256), nullable=False),  # the name casefolded: unique per user
    Index("ux_contact_groups_name", "tenant_id", "user_uri", "name_key", unique=True),
)


call_facts = Table(
    "call_facts",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("call_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),  # order of writing, per call
    Column("at_us", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("app", String(64), nullable=True),
    Column("data", Text, nullable=False),  # JSON
)


subscriptions = Table(
    "subscriptions",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("resource", String(400), nullable=False),
    Column("change_types", String(32), nullable=False),
    Column("notification_url", String(2048), nullable=False),
    Column("lifecycle_url", String(2048), nullable=True),
    Column("client_state", String(128), nullable=True),
    Column("expires_us", BigInteger, nullable=False),
    Column("participant_id", String(128), nullable=True),
    Column("creator_id", String(256), nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("subscription_id", String(64), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("body", LargeBinary, nullable=False),  # the JSON to POST
    Column("lifecycle", Integer, nullable=False, server_default="0"),  # 1: a lifecycle notification
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("due_us", BigInteger, nullable=False),  # next attempt, or the end of a claim in progress
    Column("created_us", BigInteger, nullable=False),
    Index("ix_outbox_due", "due_us"),
    sqlite_autoincrement=True,  # a message is deleted by id once delivered: an id must not pass to another
)
