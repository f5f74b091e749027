"""Settings: the ZHENGGAI_ prefix, the conventional DATABASE_URL/TEMPORAL_ADDRESS, validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("ZHENGGAI_") or name in ("DATABASE_URL", "TEMPORAL_ADDRESS"):
            monkeypatch.delenv(name)


def test_defaults_describe_the_embedded_stack() -> None:
    settings = Settings()
    assert settings.database_url is None
    assert settings.temporal_target == "127.0.0.1:7233"
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert settings.language == "zh-CN"


def test_conventional_and_prefixed_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/zg")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv("ZHENGGAI_API_PORT", "9000")
    monkeypatch.setenv("ZHENGGAI_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.database_url == "postgresql://u@db:5432/zg"
    assert settings.temporal_target == "temporal:7233"
    assert settings.api_port == 9000
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/test"),
        ("ZHENGGAI_API_PORT", "70000"),
        ("ZHENGGAI_LANGUAGE", "fr"),
        ("ZHENGGAI_LOG_FORMAT", "xml"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_production_refuses_to_start_without_real_services_and_an_audit_key() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL, TEMPORAL_ADDRESS, ZHENGGAI_AUDIT_KEY"):
        Settings(environment="production")
    Settings(
        environment="production",
        database_url="postgresql://u@db/zg",
        temporal_address="t:7233",
        audit_key="k" * 32,
    )
