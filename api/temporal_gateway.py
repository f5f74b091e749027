"""A Temporal client that connects on first use, so the API starts (and reports
an unreachable Temporal in /health) even when Temporal is down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from temporalio.client import Client

__all__ = ["TemporalGateway", "TemporalUnavailable"]


class TemporalUnavailable(Exception):
    pass


class TemporalGateway:
    def __init__(self, connect: Callable[[], Awaitable[Client]], client: Client | None = None):
        self._connect = connect
        self._client = client
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await asyncio.wait_for(self._connect(), timeout=5)
                except Exception as exc:
                    raise TemporalUnavailable(str(exc) or type(exc).__name__) from exc
        return self._client

    async def check(self) -> str | None:
        """None when Temporal answers, else the reason it does not."""
        try:
            client = await self.client()
            await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        except Exception as exc:
            return str(exc) or type(exc).__name__
        return None
