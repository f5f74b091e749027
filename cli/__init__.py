"""The `zhenggai` command line and the process-wide setup (settings, logging) it owns."""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    from cli.main import main as run

    run()
