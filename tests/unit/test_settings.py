"""Settings: the ZHENGGAI_ prefix, the conventional DATABASE_URL/TEMPORAL_ADDRESS, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("ZHENGGAI_") or name.removesuffix("_FILE") in (
            "DATABASE_URL",
            "TEMPORAL_ADDRESS",
        ):
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


def test_a_secret_is_read_from_the_file_its_FILE_variable_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path
    (folder / "key").write_text("file-audit-key-0123456789abcdef\n", encoding="utf-8")
    (folder / "url").write_text("postgresql://api:pw@db:5432/zg", encoding="utf-8")
    monkeypatch.setenv("ZHENGGAI_AUDIT_KEY_FILE", str(folder / "key"))
    monkeypatch.setenv("DATABASE_URL_FILE", str(folder / "url"))
    settings = Settings()
    assert settings.audit_key is not None
    assert settings.audit_key.get_secret_value() == "file-audit-key-0123456789abcdef"
    assert settings.database_url == "postgresql://api:pw@db:5432/zg"
    # The variable itself wins over its _FILE form.
    monkeypatch.setenv("DATABASE_URL", "postgresql://env@db:5432/zg")
    assert Settings().database_url == "postgresql://env@db:5432/zg"


def test_an_unreadable_FILE_variable_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHENGGAI_SMTP_PASSWORD_FILE", "/nonexistent/secret")
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "ZHENGGAI_SMTP_PASSWORD_FILE" in str(raised.value)
    assert "/nonexistent/secret" in str(raised.value)
