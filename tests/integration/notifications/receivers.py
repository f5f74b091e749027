"""Real receivers on 127.0.0.1: an SMTP server (aiosmtpd) and an HTTP webhook receiver."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from activities.outbox_dispatcher.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from cli.preflight import port_free

USER, PASSWORD = "notifier", "correct horse"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    assert port_free("127.0.0.1", port)
    return port


def key_of(mail: EmailMessage) -> str:
    """The row's key; a long header arrives folded, hence the strip."""
    return str(mail["X-Zhenggai-Idempotency-Key"]).strip()


class Mailbox:
    """The aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
        return "250 OK"

    def keys(self) -> list[str]:
        with self._lock:
            return [key_of(m) for m in self.messages]


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A plain SMTP server on loopback that checks AUTH (no TLS: it never leaves the host)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        # AUTH is offered and checked but not demanded: demanding it without TLS
        # warns, and the tests log in anyway.
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    secret: str
    fail_first: int = 3
    calls: int = 0
    bad_signatures: int = 0
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path, body)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, path: str, headers: Any, raw: bytes) -> int:
        with self.lock:
            self.calls += 1
            if path.startswith("/hook"):
                stamp = headers.get(TIMESTAMP_HEADER, "")
                expected = signature(self.secret, stamp, raw)
                fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
                if not (fresh and hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, ""))):
                    self.bad_signatures += 1
                    return 401
            if self.calls <= self.fail_first:
                return 503  # down for a while
            self.received.append((path, json.loads(raw)))
            return 200


@contextmanager
def webhook_server(receiver: WebhookReceiver) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle(self.path, self.headers, raw)
            body = b'{"errcode":0,"errmsg":"ok"}' if status == 200 else b'{"error":"no"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
