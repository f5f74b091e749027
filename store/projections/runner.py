"""``zhenggai projector``: one ``Subscription`` thread per projection.

Each runner holds its projection's advisory lock (a second runner of the same
projection gets ``ProjectionBusy``), applies batches and moves its checkpoint
in one transaction: a crash in a batch leaves tables and checkpoint as they
were, and the next runner resumes from the checkpoint. A runner that fails
(the database went away) is restarted after a pause, until ``stop``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from sqlalchemy import Engine

from store.errors import ProjectionBusy
from store.projections.base import Projection
from store.projections.registry import PROJECTIONS
from store.subscription import Subscription

__all__ = ["run_projections", "subscription_for"]

log = logging.getLogger(__name__)


def subscription_for(
    engine: Engine, projection: Projection, *, batch_size: int = 500, poll_interval: float = 1.0
) -> Subscription:
    return Subscription(
        engine,
        projection.name,
        projection.handler(),
        batch_size=batch_size,
        poll_interval=poll_interval,
    )


def _run_one(engine: Engine, projection: Projection, stop: threading.Event, retry: float) -> None:
    subscription = subscription_for(engine, projection)
    while not stop.is_set():
        try:
            subscription.run(stop)
        except ProjectionBusy:
            log.warning("projection %s: another runner holds it; waiting", projection.name)
        except Exception:
            log.exception("projection %s failed; restarting", projection.name)
        stop.wait(retry)


def run_projections(
    engine: Engine,
    stop: threading.Event,
    names: Iterable[str] | None = None,
    *,
    retry: float = 5.0,
) -> None:
    """Run the named projections (all by default) until ``stop`` is set."""
    chosen = [PROJECTIONS[n] for n in (names or PROJECTIONS)]
    threads = [
        threading.Thread(
            target=_run_one, args=(engine, p, stop, retry), name=f"projection-{p.name}"
        )
        for p in chosen
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
