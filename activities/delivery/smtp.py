"""Email over SMTP with the standard library: STARTTLS, implicit TLS, or plain (loopback)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from activities.delivery.config import SmtpConfig
from activities.delivery.errors import DeliveryFailed
from activities.delivery.messages import Message
from store.outbox import OutboxRow

__all__ = ["SmtpSender", "build_email"]


def build_email(config: SmtpConfig, row: OutboxRow, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = config.sender
    mail["To"] = row.recipient
    mail["Date"] = formatdate(localtime=True)
    # Stable per row: a receiver (or a mail archive) can spot a repeat after a lost reply.
    mail["Message-ID"] = make_msgid(idstring=f"zhenggai-{row.id}", domain="zhenggai.invalid")
    mail["X-Zhenggai-Case"] = row.case_id
    mail["X-Zhenggai-Idempotency-Key"] = row.idempotency_key
    mail.set_content(message.text, charset="utf-8")
    return mail


class SmtpSender:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    def deliver(self, row: OutboxRow, message: Message) -> None:
        config = self._config
        if not config.host:
            raise DeliveryFailed("SMTP host not configured (ZHENGGAI_SMTP_HOST)")
        mail = build_email(config, row, message)
        try:
            with self._connect() as smtp:
                if config.username:
                    smtp.login(config.username, config.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(
                f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP error {exc.smtp_code}: {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            where = f"{config.host}:{config.port}"
            raise DeliveryFailed(f"SMTP {where}: {type(exc).__name__}: {exc}") from exc

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


def _text(raw: bytes | str) -> str:
    value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(value.split())
