"""deploy/: the files a production install uses, checked statically (no docker here): YAML
that parses, references that resolve, secrets from files, non-root images. The Helm chart
is rendered by the real helm in test_deploy_rendered.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with the dev tools

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROCESSES = ("api", "worker", "projector", "dispatcher")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    return loaded


def test_compose_references_resolve() -> None:
    compose = _compose()
    services: dict[str, Any] = compose["services"]
    secrets = compose["secrets"]
    volumes = compose["volumes"]
    for name, secret in secrets.items():
        assert secret["file"].startswith("./secrets/"), name  # deploy/make-secrets.sh writes them
    for name, service in services.items():
        assert "image" in service, name
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown {needed}"
        for secret in service.get("secrets", []):
            assert secret in secrets, f"{name} uses unknown secret {secret}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in volumes, f"{name} uses unknown volume {source}"
        for key, value in (service.get("environment") or {}).items():
            if key.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                secret = str(value).removeprefix("/run/secrets/")
                assert secret in service.get("secrets", []), f"{name}: {key} not mounted"
            # No secret in clear: passwords, keys and URLs with credentials come from files.
            if re.search(r"PASSWORD|_KEY$|SECRET|DATABASE_URL$|_PWD$", key):
                assert key.endswith("_FILE"), f"{name}: {key} must be a _FILE"


def test_make_secrets_writes_every_secret_of_compose_consistently(tmp_path: Path) -> None:
    shutil.copy(DEPLOY / "make-secrets.sh", tmp_path)
    subprocess.run(["sh", str(tmp_path / "make-secrets.sh")], check=True, capture_output=True)
    for name, secret in _compose()["secrets"].items():
        made = tmp_path / secret["file"]
        assert made.exists(), f"make-secrets.sh does not write {secret['file']} ({name})"
        assert made.stat().st_mode & 0o077 == 0, f"{made} is readable by others"
    logins = json.loads((tmp_path / "secrets/db_logins.json").read_text("utf-8"))
    for process in PROCESSES:
        url = (tmp_path / f"secrets/database_url_{process}").read_text("utf-8").strip()
        login = f"zhenggai_{process}_login"
        assert url.startswith(f"postgresql://{login}:{logins[login]}@eventstore-db:5432/"), url
    first = (tmp_path / "secrets/audit_key").read_text("utf-8")
    subprocess.run(["sh", str(tmp_path / "make-secrets.sh")], check=True, capture_output=True)
    assert (tmp_path / "secrets/audit_key").read_text("utf-8") == first  # kept on a rerun


def test_compose_runs_each_process_as_its_own_login_and_two_apis_and_workers() -> None:
    services = _compose()["services"]
    commands = {n: s.get("command", [None])[0] for n, s in services.items()}
    assert sorted(n for n, c in commands.items() if c == "api") == ["api-1", "api-2"]
    assert sorted(n for n, c in commands.items() if c == "worker") == ["worker-1", "worker-2"]
    assert [n for n, c in commands.items() if c == "projector"] == ["projector"]
    assert [n for n, c in commands.items() if c == "dispatcher"] == ["dispatcher"]
    assert services["migrate"]["restart"] == "no"
    urls = {}
    for name, command in commands.items():
        if command in PROCESSES:
            urls[name] = services[name]["environment"]["DATABASE_URL_FILE"]
            assert urls[name] == f"/run/secrets/database_url_{command}"
            assert "migrate" in services[name]["depends_on"]
            assert "healthcheck" in services[name], name
            assert services[name]["environment"]["ZHENGGAI_ENVIRONMENT"] == "production"
    assert services["migrate"]["environment"]["DATABASE_URL_FILE"].endswith("owner")
    # Temporal's schema is set up by temporal-sql-tool, on a PostgreSQL of its own.
    assert "temporal-sql-tool" in (DEPLOY / "temporal/setup-schema.sh").read_text("utf-8")
    assert services["temporal"]["environment"]["POSTGRES_SEEDS"] == "temporal-db"
    assert "eventstore-data" in services["eventstore-db"]["volumes"][0]


def test_dockerfile_is_multi_stage_non_root_and_built_from_the_wheel() -> None:
    text = (DEPLOY / "Dockerfile").read_text("utf-8")
    assert len(re.findall(r"^FROM ", text, re.M)) >= 3
    assert "uv build --wheel" in text
    assert re.search(r"^USER 10001", text, re.M)
    assert 'ENTRYPOINT ["zhenggai"]' in text
    root = DEPLOY.parent
    for source in re.findall(r"^COPY (?!--)(\S+) ", text, re.M):
        for part in source.split():
            assert (root / part).exists(), f"COPY of missing {part}"


def test_temporal_values_choose_postgres_and_a_shard_count() -> None:
    # The 1.x layout of Temporal's chart (rendered by hand once, deploy/README.md).
    values = yaml.safe_load((DEPLOY / "helm" / "temporal-values.yaml").read_text("utf-8"))
    persistence = values["server"]["config"]["persistence"]
    assert persistence["numHistoryShards"] == 512
    assert str(_compose()["services"]["temporal"]["environment"]["NUM_HISTORY_SHARDS"]) == "512"
    for store in ("default", "visibility"):
        sql = persistence["datastores"][store]["sql"]
        assert sql["pluginName"] == "postgres12"
        assert "existingSecret" in sql
        assert "password" not in sql
    # Keys of the 0.x chart that the 1.x chart refuses to render.
    for removed in ("cassandra", "mysql", "postgresql", "elasticsearch", "prometheus", "grafana"):
        assert removed not in values, removed
    assert "schema" not in values


@pytest.mark.parametrize("name", ["zhenggai.json"])
def test_grafana_dashboard_queries_the_metrics_we_serve(name: str) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / name).read_text("utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    text = " ".join(exprs)
    for metric in (
        "zhenggai_api_http_requests_total",
        "zhenggai_api_http_request_duration_seconds_bucket",
        "zhenggai_cases_open",
        "zhenggai_projection_events_behind",
        "zhenggai_outbox_rows",
        "temporal_",
    ):
        assert metric in text, metric
