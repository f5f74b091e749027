"""Annotated dependencies: what a route needs, taken from the app's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.temporal_gateway import TemporalGateway
from settings import Settings
from store.directory import Directory
from store.event_store import EventStore
from store.idempotency import IdempotencyKeys

__all__ = ["AppSettings", "Idempotency", "Store", "Temporal", "Units"]


def _store(request: Request) -> EventStore:
    store: EventStore = request.app.state.store
    return store


def _keys(request: Request) -> IdempotencyKeys:
    keys: IdempotencyKeys = request.app.state.idempotency_keys
    return keys


def _temporal(request: Request) -> TemporalGateway:
    gateway: TemporalGateway = request.app.state.temporal
    return gateway


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _directory(request: Request) -> Directory:
    directory: Directory = request.app.state.directory
    return directory


Store = Annotated[EventStore, Depends(_store)]
Idempotency = Annotated[IdempotencyKeys, Depends(_keys)]
Temporal = Annotated[TemporalGateway, Depends(_temporal)]
AppSettings = Annotated[Settings, Depends(_settings)]
Units = Annotated[Directory, Depends(_directory)]
