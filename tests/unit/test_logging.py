"""Logging: JSON lines off a terminal, with the bound request, case and workflow ids."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
import structlog

from cli.logs import configure_logging


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_each_line_is_json_with_the_bound_ids() -> None:
    out = io.StringIO()
    configure_logging("INFO", "auto", out)
    structlog.contextvars.bind_contextvars(request_id="r-1", case_id="c-1", workflow_id="case-c-1")
    try:
        structlog.get_logger("t").info("events_appended", count=2, title="整改")
        logging.getLogger("uvicorn.error").warning("stdlib too")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["event"] == "events_appended"
    assert lines[0]["title"] == "整改"
    assert (lines[0]["request_id"], lines[0]["case_id"], lines[0]["workflow_id"]) == (
        "r-1",
        "c-1",
        "case-c-1",
    )
    assert lines[1]["event"] == "stdlib too"
    assert lines[1]["request_id"] == "r-1"


def test_on_a_terminal_output_is_for_people_not_json() -> None:
    out = _Terminal()
    configure_logging("INFO", "auto", out)
    structlog.get_logger("t").info("hello", case_id="c-2")
    text = out.getvalue()
    assert "hello" in text
    assert "c-2" in text
    assert not text.lstrip().startswith("{")


def test_below_the_level_nothing_is_written() -> None:
    out = io.StringIO()
    configure_logging("WARNING", "json", out)
    structlog.get_logger("t").info("quiet")
    assert out.getvalue() == ""


def test_logging_set_up_while_stderr_was_swapped_still_writes_after_it_is_closed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CLI run under typer's CliRunner sets logging up on its own stderr, which is
    closed when the run ends; later lines go to the stderr of their moment."""
    swapped = io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", swapped)
        configure_logging("INFO", "json")
    swapped.close()
    structlog.get_logger().info("after_the_run", case_id="C-1")
    logging.getLogger("temporalio").warning("stdlib too")
    lines = capsys.readouterr().err.splitlines()
    assert json.loads(lines[0])["event"] == "after_the_run"
    assert "stdlib too" in lines[1]
