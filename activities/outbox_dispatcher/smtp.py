"""Email over SMTP with the standard library: STARTTLS, implicit TLS, or plain (loopback).

Exactly once, as far as SMTP allows:

- Every try of a row carries the same ``Message-ID`` (made from the row's
  idempotency key, so from the causing event and the recipient): a repeat is
  recognisable as the same message by mail clients and archives.
- The moment the server answers 250 to the DATA, the message is its
  responsibility: ``on_accepted`` records the row as sent right then, before
  QUIT, and nothing that fails afterwards (QUIT timing out, the connection
  dropping) makes it a failure or a retry.
- A timeout or a dropped connection *while waiting for the DATA answer* is
  ambiguous (the server may have stored the message): the row is retried with
  the same Message-ID, so the reader may see a repeat that most mail clients fold
  into one. That is the one place a second copy is possible.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate

import structlog

from activities.outbox_dispatcher.config import SmtpConfig
from activities.outbox_dispatcher.errors import DeliveryFailed
from activities.outbox_dispatcher.messages import Message
from store.outbox import OutboxRow

__all__ = ["SmtpSender", "build_email", "message_id"]

log = structlog.get_logger(__name__)


def message_id(config: SmtpConfig, row: OutboxRow) -> str:
    """Stable for the row: the same on every retry, different for every recipient."""
    domain = config.sender.rsplit("@", 1)[-1].strip(" >") or "zhenggai.invalid"
    return f"<zhenggai.{row.delivery_id}@{domain}>"


def build_email(config: SmtpConfig, row: OutboxRow, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = config.sender
    mail["To"] = row.recipient
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = message_id(config, row)
    mail["X-Zhenggai-Case"] = row.case_id
    mail["X-Zhenggai-Idempotency-Key"] = row.idempotency_key
    mail.set_content(message.text, charset="utf-8")
    return mail


class SmtpSender:
    """``on_accepted(row)`` runs as soon as the server took the DATA (the dispatcher
    records the row as sent there); without it the caller records success on return."""

    def __init__(
        self, config: SmtpConfig, on_accepted: Callable[[OutboxRow], object] | None = None
    ) -> None:
        self._config = config
        self._on_accepted = on_accepted

    def deliver(self, row: OutboxRow, message: Message) -> None:
        config = self._config
        if not config.host:
            raise DeliveryFailed("SMTP host not configured (ZHENGGAI_SMTP_HOST)")
        mail = build_email(config, row, message)
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(mail)  # returns after the server's 250 to the DATA
        except smtplib.SMTPAuthenticationError as exc:
            _close(smtp)
            raise DeliveryFailed(
                f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            _close(smtp)
            raise DeliveryFailed(f"SMTP error {exc.smtp_code}: {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close(smtp)
            where = f"{config.host}:{config.port}"
            raise DeliveryFailed(f"SMTP {where}: {type(exc).__name__}: {exc}") from exc
        # Accepted: recorded before anything else can fail.
        if self._on_accepted is not None:
            self._on_accepted(row)
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError) as exc:
            log.warning(
                "smtp_quit_failed_after_acceptance",
                notification_id=row.id,
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            _close(smtp)

    def _connect(self) -> smtplib.SMTP:
        config = self._config
        assert config.host is not None
        if config.security == "tls":
            return smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=config.timeout,
                context=ssl.create_default_context(),
            )
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        try:
            if config.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        except BaseException:
            smtp.close()
            raise
        return smtp


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        with contextlib.suppress(Exception):
            smtp.close()


def _text(raw: bytes | str) -> str:
    value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(value.split())
