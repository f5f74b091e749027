"""The one configuration object of every zhenggai process.

Built once by an entry point (``zhenggai …`` or ``worker.py``) and passed down
explicitly; nothing below the entry points reads the environment.

Environment: ``ZHENGGAI_<FIELD>`` for every field, plus the conventional
``DATABASE_URL`` and ``TEMPORAL_ADDRESS`` (which win over the prefixed forms).
Each of them may instead be given as ``<NAME>_FILE``, the path of a file that
holds the value (Docker and Kubernetes secrets), e.g.
``ZHENGGAI_AUDIT_KEY_FILE=/run/secrets/audit_key``; the variable itself wins
when both are set.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import ValidationError
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from store.audit_keys import AuditKeys
from store.engine import sqlalchemy_url
from store.errors import SealError

__all__ = ["Language", "Settings"]

Language = Literal["zh-CN", "en"]


ENV_PREFIX = "ZHENGGAI_"


def _env_names(name: str, field: FieldInfo) -> list[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [c for c in alias.choices if isinstance(c, str)]
    if isinstance(alias, str):
        return [alias]
    return [f"{ENV_PREFIX}{name.upper()}"]


class FileVariables(PydanticBaseSettingsSource):
    """``<NAME>_FILE=/run/secrets/x``: the value of ``<NAME>`` read from that file.

    One trailing newline is dropped (``echo secret > file``). A file that cannot be
    read is a ValidationError naming the variable, like any bad setting.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ does the work

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            for env_name in _env_names(name, field):
                path = os.environ.get(f"{env_name}_FILE")
                if not path:
                    continue
                try:
                    value = Path(path).read_text(encoding="utf-8")
                except OSError as exc:
                    raise ValidationError.from_exception_data(
                        "Settings",
                        [
                            {
                                "type": "value_error",
                                "loc": (f"{env_name}_FILE",),
                                "input": path,
                                "ctx": {"error": ValueError(f"cannot read {path}: {exc.strerror}")},
                            }
                        ],
                    ) from None
                # Keyed as the model validates it: by its alias where it has one.
                key = name if field.validation_alias is None else _env_names(name, field)[0]
                found[key] = value.removesuffix("\n").removesuffix("\r")
                break
        return found


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            FileVariables(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    environment: Literal["development", "production"] = "development"

    # Services. None means: `zhenggai up` starts an embedded one.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "ZHENGGAI_DATABASE_URL")
    )
    temporal_address: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_ADDRESS", "ZHENGGAI_TEMPORAL_ADDRESS"),
    )
    temporal_namespace: str = "default"
    task_queue: str = "zhenggai-cases"

    # Embedded stack (`zhenggai up`).
    data_dir: Path = Path(".zhenggai")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)

    # Worker: only this many case workflows stay cached in memory. Cases wait weeks
    # between events, so a case out of the cache costs one replay of a short history
    # when it wakes; 500 keeps the worker under 300 MB with 10,000 open cases
    # (docs/performance.md), where Temporal's default of 1000 does not.
    max_cached_workflows: int = Field(default=500, ge=0)
    # A case's workflow continues as new once a run's history holds this many events.
    case_history_limit: int = Field(default=2_000, ge=10, le=40_000)

    # API: how long a command waits for its case's workflow before the caller is told
    # to retry with the same Idempotency-Key (503), instead of waiting on a dead worker.
    command_timeout_seconds: float = Field(default=15.0, gt=0, le=300)

    # The operator's policy file (TOML; docs/policy.example.toml): deadlines, reminders,
    # escalation, caps, unit classes, calendar years. Unset: the built-in defaults.
    # Read at start by the API and the worker; a changed file applies to new cases only.
    policy_file: Path | None = None

    # Prometheus metrics of the worker (the Temporal SDK's), the projector (lag per
    # projection) and the dispatcher (outbox rows by status and channel), each on its
    # own port at metrics_host; unset: not served. The API serves /metrics itself.
    metrics_host: str = "127.0.0.1"
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    projector_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    dispatcher_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # The API's case gauges (open cases by light and escalation level) are counted
    # from the case summary at most this often.
    metrics_cache_seconds: float = Field(default=15.0, ge=0, le=3600)

    # OpenTelemetry traces, off unless otel_endpoint is set (settings.tracing): the API's
    # requests, the Temporal calls they make and the workflow and activities answering
    # them, in one trace, sent by OTLP over HTTP to e.g. http://otel-collector:4318
    # (/v1/traces is appended unless the URL names a path). The span's service.name is
    # otel_service_name, else zhenggai-<process> (zhenggai-api, zhenggai-worker); a share
    # otel_sample_ratio of new traces is kept (a traced caller's choice is followed).
    otel_endpoint: str | None = None
    otel_service_name: str | None = Field(default=None, min_length=1, max_length=128)
    otel_sample_ratio: float = Field(default=1.0, ge=0, le=1)

    # Logging and language of user-facing text.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    language: Language = "zh-CN"

    # The web console (/console/): a session ends after this many minutes without a
    # request; the cookie is Secure when public_base_url is https.
    console_session_idle_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)

    # Key that signs audit seals; kept outside the database on purpose. After a
    # rotation the old keys go to audit_retired_keys (a JSON list of strings):
    # they only verify the seals they signed.
    audit_key: SecretStr | None = None
    audit_retired_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # Every new seal is appended here too (JSON Lines), outside the database, and
    # `audit verify` reports a seal the database lost. Keep it where the
    # database's users cannot write. Unset: `<data_dir>/audit/witness.jsonl` for
    # the embedded database of `up`, none with DATABASE_URL.
    audit_witness_file: Path | None = None

    # Evidence files (佐证材料): size cap, and the kinds accepted (media types of
    # application.evidence_kinds.EVIDENCE_KINDS; unset: all of them).
    evidence_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    evidence_media_types: tuple[str, ...] | None = None

    # Ledgers (台账): the Chinese font embedded in PDFs (a .ttf/.ttc file); unset: the
    # first of WenQuanYi Micro Hei and Noto Sans CJK found at their Debian paths.
    pdf_font: Path | None = None

    # Notifications (email and webhooks, delivered from the outbox).
    smtp_host: str | None = None  # unset: email rows wait as pending
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "zhenggai@localhost"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    webhook_secret: SecretStr | None = None  # signs webhooks whose contact has no secret
    # The site people open from a message (links go to {base}/cases/{id}, a page, not
    # the JSON API). Unset: where this API serves, http://{api_host}:{api_port}.
    public_base_url: str = ""
    notification_language: Language | None = None  # None: `language`
    notification_max_attempts: int = Field(default=8, ge=1, le=100)
    notification_backoff_base_seconds: float = Field(default=2.0, gt=0)
    notification_backoff_cap_seconds: float = Field(default=600.0, gt=0)
    notification_poll_seconds: float = Field(default=2.0, gt=0)
    # Contacts that chose a daily digest get it once a day from this hour (China time).
    notification_digest_hour: int = Field(default=8, ge=0, le=23)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value:
            sqlalchemy_url(value)  # raises a clear error for a non-PostgreSQL URL
        return value or None

    @field_validator("otel_endpoint")
    @classmethod
    def _check_otel_endpoint(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                "ZHENGGAI_OTEL_ENDPOINT must be an http:// or https:// URL of an OTLP/HTTP "
                f"receiver (e.g. http://otel-collector:4318): {value!r}"
            )
        return value.strip()

    @model_validator(mode="after")
    def _default_public_base_url(self) -> Settings:
        if not self.public_base_url.strip():
            host = self.api_host
            if host in ("0.0.0.0", "::", ""):  # noqa: S104 - a wildcard bind is no address
                import socket

                host = socket.getfqdn()
            if ":" in host and not host.startswith("["):
                host = f"[{host}]"
            self.public_base_url = f"http://{host}:{self.api_port}"
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _production_needs_real_services(self) -> Settings:
        if self.environment == "production":
            missing = [
                name
                for name, value in (
                    ("DATABASE_URL", self.database_url),
                    ("TEMPORAL_ADDRESS", self.temporal_address),
                    ("ZHENGGAI_AUDIT_KEY", self.audit_key),
                )
                if not value
            ]
            if missing:
                raise ValueError("production needs " + ", ".join(missing))
        return self

    @field_validator("audit_retired_keys", mode="before")
    @classmethod
    def _parse_retired_keys(cls, value: object) -> object:
        # Parsed here rather than by pydantic-settings, so bad text is a
        # ValidationError that names the variable, like every other setting.
        if not isinstance(value, str):
            return value
        try:
            keys = json.loads(value) if value.strip() else []
        except ValueError:
            keys = None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError("ZHENGGAI_AUDIT_RETIRED_KEYS must be a JSON list of strings")
        return keys

    @model_validator(mode="after")
    def _check_audit_keys(self) -> Settings:
        if self.audit_retired_keys and self.audit_key is None:
            raise ValueError("ZHENGGAI_AUDIT_RETIRED_KEYS needs ZHENGGAI_AUDIT_KEY")
        try:
            self.audit_keys()
        except SealError as exc:
            raise ValueError(str(exc)) from None
        return self

    def audit_keys(self) -> AuditKeys | None:
        """The seal keys, or None when no audit key is set."""
        if self.audit_key is None or not self.audit_key.get_secret_value():
            return None
        return AuditKeys(
            self.audit_key.get_secret_value().encode("utf-8"),
            tuple(k.get_secret_value().encode("utf-8") for k in self.audit_retired_keys),
        )

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def require_database_url(self) -> str:
        if not self.database_url:
            raise ValueError(
                "DATABASE_URL is not set; start the embedded stack with `zhenggai up` "
                "or export DATABASE_URL=postgresql://user@host:5432/db"
            )
        return self.database_url
