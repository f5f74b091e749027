"""Tracing is off unless asked for: in Settings, in the Compose file and in the Helm chart."""

from __future__ import annotations

from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML comes with the dev tools

from settings import Settings
from settings.tracing import start_tracing

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_tracing_is_off_by_default_and_with_an_empty_endpoint() -> None:
    assert Settings().otel_endpoint is None
    assert Settings(otel_endpoint="  ").otel_endpoint is None
    assert start_tracing(Settings(), "api") is None


def test_compose_passes_the_endpoint_through_empty_by_default() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    env = compose["x-zhenggai-env"]
    assert env["ZHENGGAI_OTEL_ENDPOINT"] == "${ZHENGGAI_OTEL_ENDPOINT:-}"
    for name in ("api-1", "worker-1"):
        assert compose["services"][name]["environment"]["ZHENGGAI_OTEL_ENDPOINT"] == (
            "${ZHENGGAI_OTEL_ENDPOINT:-}"
        )


def test_the_helm_chart_sets_tracing_only_when_an_endpoint_is_given() -> None:
    chart = DEPLOY / "helm" / "zhenggai"
    values = yaml.safe_load((chart / "values.yaml").read_text("utf-8"))
    assert values["tracing"]["otlpEndpoint"] == ""
    configmap = (chart / "templates" / "configmap.yaml").read_text("utf-8")
    guarded = configmap.split("{{- if .Values.tracing.otlpEndpoint }}")[1].split("{{- end }}")[0]
    assert "ZHENGGAI_OTEL_ENDPOINT" in guarded
    assert configmap.count("ZHENGGAI_OTEL_ENDPOINT") == 1
