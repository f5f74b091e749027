"""What the use cases work with, built once per process by its composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.temporal_gateway import TemporalGateway
from domain.policy import PolicyBook
from settings import Settings
from store.accounts import Accounts
from store.directory import Directory
from store.event_store import EventStore
from store.evidence import EvidenceFiles
from store.idempotency import IdempotencyKeys
from store.outbox import Outbox
from store.tokens import Tokens

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    settings: Settings
    policy: PolicyBook  # the rules new cases open under
    store: EventStore
    directory: Directory
    keys: IdempotencyKeys
    evidence: EvidenceFiles
    tokens: Tokens
    temporal: TemporalGateway
    outbox: Outbox = field(init=False)
    accounts: Accounts = field(init=False)  # the console's people and sessions

    def __post_init__(self) -> None:
        object.__setattr__(self, "outbox", Outbox(self.store.engine))
        object.__setattr__(self, "accounts", Accounts(self.store.engine))
