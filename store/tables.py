"""SQLAlchemy Core description of the tables the migrations create."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

__all__ = ["checkpoints", "events", "idempotency_keys", "metadata", "streams"]

metadata = MetaData()

events = Table(
    "events",
    metadata,
    Column("position", BigInteger, nullable=False, unique=True),
    Column("tx_id", Text, nullable=False),  # xid8 in the database, read as text
    Column("stream_id", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("metadata", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("previous_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
)

streams = Table(
    "streams",
    metadata,
    Column("stream_id", Text, primary_key=True),
    Column("type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("head_hash", LargeBinary, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("projection", Text, primary_key=True),
    Column("tx_id", Text, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
