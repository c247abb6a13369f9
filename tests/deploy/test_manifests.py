"""What operators apply with ``kubectl apply -k k8s/`` keeps the contract."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import PurePosixPath

import kubernetes_validate
import pytest
import yaml

from dashboard.auth import (
    COOKIE_SECRET_VARIABLE,
    PASSWORD_VARIABLE,
    USERS_FILE_VARIABLE,
)
from dashboard.health import ROUTES

from .manifests import (
    CONTAINERFILE,
    K8S,
    app_container,
    by_kind,
    containerfile_instructions,
    render,
    tool,
)

KUBERNETES_VERSION = "1.30.0"
SIGN_IN_SECRET = "soc-copilot-auth"


@pytest.fixture(scope="module")
def base_objects() -> dict[str, dict]:
    return by_kind(render(K8S))


@pytest.fixture(scope="module")
def ingress_objects() -> dict[str, dict]:
    return by_kind(render(K8S / "overlays" / "ingress-tls"))


@pytest.fixture(scope="module")
def users_component_objects(tmp_path_factory) -> dict[str, dict]:
    """k8s/ with the sign-in-users component, as an operator would add it."""
    # kustomize takes relative paths only, so a copy of k8s/ sits beside the
    # kustomization that adds the component.
    folder = tmp_path_factory.mktemp("kustomize")
    shutil.copytree(K8S, folder / "k8s")
    (folder / "with-users").mkdir()
    (folder / "with-users" / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../k8s"],
        "components": ["../k8s/components/sign-in-users"],
    }))
    return by_kind(render(folder / "with-users"))


def test_kustomization_creates_exactly_deployment_service_and_configmap(
        base_objects):
    assert sorted(base_objects) == ["ConfigMap", "Deployment", "Service"]
    assert {o["metadata"]["namespace"] for o in base_objects.values()} == {"mlops"}


@pytest.mark.parametrize("overlay", ["base", "ingress"])
def test_manifests_validate_against_the_kubernetes_schemas(
        overlay, base_objects, ingress_objects):
    objects = base_objects if overlay == "base" else ingress_objects
    for obj in objects.values():
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_service_is_a_nodeport_on_30010_with_session_affinity(base_objects):
    spec = base_objects["Service"]["spec"]
    assert spec["type"] == "NodePort"
    assert [port["nodePort"] for port in spec["ports"]] == [30010]
    assert spec["sessionAffinity"] == "ClientIP"
    pod_labels = base_objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert spec["selector"].items() <= pod_labels.items()


def test_deployment_reads_credentials_from_a_secret(base_objects):
    env = {item["name"]: item for item in app_container(
        base_objects["Deployment"])["env"]}
    refs = {name: env[name]["valueFrom"]["secretKeyRef"]
            for name in ("MINIO_ACCESS_KEY", "MINIO_SECRET_KEY")}
    assert {ref["key"] for ref in refs.values()} == {"rootUser", "rootPassword"}
    settings = base_objects["ConfigMap"]["data"]
    assert {ref["name"] for ref in refs.values()} == {
        settings["MINIO_CREDENTIALS_SECRET"]}
    assert "value" not in env["MINIO_ACCESS_KEY"]
    assert "value" not in env["MINIO_SECRET_KEY"]


def test_settings_configmap_holds_endpoint_and_buckets_but_no_credential(
        base_objects):
    container = app_container(base_objects["Deployment"])
    configmap = base_objects["ConfigMap"]
    assert container["envFrom"] == [
        {"configMapRef": {"name": configmap["metadata"]["name"]}}]
    data = configmap["data"]
    assert {"MINIO_ENDPOINT", "MODELS_BUCKET", "EVAL_BUCKET", "SILVER_BUCKET",
            "SOC_COPILOT_ALLOWED_ORIGINS"} <= data.keys()
    assert not {"MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"} & data.keys()


def test_scratch_emptydir_is_mounted_where_the_app_writes(base_objects):
    spec = base_objects["Deployment"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in app_container(
        base_objects["Deployment"])["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    env = {e["name"]: e.get("value") for e in app_container(
        base_objects["Deployment"])["env"]}
    assert env["TMPDIR"] == "/tmp"


def test_probes_use_paths_the_app_serves(base_objects):
    container = app_container(base_objects["Deployment"])
    served = {pattern for pattern, _handler in ROUTES}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"/readyz", "/healthz"} <= served


def test_image_name_pull_policy_and_port(base_objects):
    container = app_container(base_objects["Deployment"])
    assert container["image"] == "soc-copilot:ui-light"
    assert container["imagePullPolicy"] == "IfNotPresent"
    exposed = dict(containerfile_instructions())["EXPOSE"]
    assert [p["containerPort"] for p in container["ports"]] == [int(exposed)]
    assert container["args"][-1] == exposed


def test_pod_runs_restricted(base_objects):
    pod = base_objects["Deployment"]["spec"]["template"]["spec"]
    container = app_container(base_objects["Deployment"])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["limits"]["memory"]
    assert container["resources"]["requests"]["memory"]


def test_containerfile_runs_as_the_deployments_non_root_user(base_objects):
    instructions = containerfile_instructions()
    user = [args for word, args in instructions if word == "USER"][-1]
    pod = base_objects["Deployment"]["spec"]["template"]["spec"]
    assert user.split(":")[0] == str(pod["securityContext"]["runAsUser"])
    assert any(word == "HEALTHCHECK" and "/healthz" in args
               for word, args in instructions)


def test_ingress_overlay_swaps_the_nodeport_for_tls(ingress_objects):
    assert ingress_objects["Service"]["spec"]["type"] == "ClusterIP"
    ingress = ingress_objects["Ingress"]["spec"]
    assert ingress["tls"][0]["secretName"]
    assert ingress["tls"][0]["hosts"][0] == ingress["rules"][0]["host"]


def test_containerfile_passes_hadolint():
    result = subprocess.run([tool("hadolint"), str(CONTAINERFILE)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_example_has_placeholders_only_and_is_not_applied():
    for example in secret_examples().values():
        kubernetes_validate.validate(example, KUBERNETES_VERSION, strict=True)
        assert all(value.startswith("REPLACE_WITH_")
                   for value in example["stringData"].values())
    for kustomization in K8S.rglob("kustomization.yaml"):
        assert "secret.example" not in kustomization.read_text()


def test_sign_in_is_read_from_an_optional_secret(base_objects):
    env = {item["name"]: item for item in app_container(
        base_objects["Deployment"])["env"]}
    refs = {name: env[name]["valueFrom"]["secretKeyRef"]
            for name in (PASSWORD_VARIABLE, COOKIE_SECRET_VARIABLE)}
    # Optional: without the Secret the pod starts as before, without sign-in.
    assert all(ref["optional"] is True for ref in refs.values())
    assert {ref["name"] for ref in refs.values()} == {SIGN_IN_SECRET}
    example = secret_examples()[SIGN_IN_SECRET]
    assert {ref["key"] for ref in refs.values()} == example["stringData"].keys()
    assert not any("value" in env[name] for name in refs)
    settings = base_objects["ConfigMap"]["data"]
    assert not {PASSWORD_VARIABLE, COOKIE_SECRET_VARIABLE} & settings.keys()


def test_sign_in_users_component_mounts_the_users_file_from_the_secret(
        users_component_objects):
    deployment = users_component_objects["Deployment"]
    kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    container = app_container(deployment)
    env = {item["name"]: item for item in container["env"]}
    assert PASSWORD_VARIABLE not in env
    assert env[COOKIE_SECRET_VARIABLE]["valueFrom"]["secretKeyRef"]["name"] == (
        SIGN_IN_SECRET)
    users_file = PurePosixPath(env[USERS_FILE_VARIABLE]["value"])
    mount = next(m for m in container["volumeMounts"]
                 if m["mountPath"] == str(users_file.parent))
    assert mount["readOnly"] is True
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == SIGN_IN_SECRET
    assert secret["items"] == [{"key": users_file.name, "path": users_file.name}]
    # The component is for choosing named users: no optional Secret here, so a
    # missing one keeps the pod from starting rather than open to anyone.
    assert not secret.get("optional", False)


def secret_examples() -> dict[str, dict]:
    """The example Secrets by name."""
    documents = yaml.safe_load_all((K8S / "secret.example.yaml").read_text())
    return {doc["metadata"]["name"]: doc for doc in documents if doc}
