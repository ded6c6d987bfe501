"""Static checks of deploy/: there is no container engine or cluster in CI, so the images are not
built here. What can go wrong without one is checked: the YAML parses, every VK_* name is a real
setting (and every setting is documented), commands are real CLI commands with valid options,
ports and health paths agree with the app, the images run as non-root, and the build context
holds what the Dockerfiles copy.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
import yaml
from typer.core import TyperGroup
from typer.testing import CliRunner

from bot.cli import app as cli_app
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
K8S_FILES = sorted((DEPLOY / "k8s").rglob("*.yaml"))
DOCKERFILE = DEPLOY / "Dockerfile"
RASA_DOCKERFILE = DEPLOY / "Dockerfile.rasa"
README = DEPLOY / "README.md"
FIELDS = {f"VK_{name.upper()}" for name in Settings.model_fields}
APP_IMAGE = "vrijwilligerskracht:"
RASA_IMAGE = "vrijwilligerskracht-rasa:"
WORKLOADS = {"Deployment", "StatefulSet", "Job"}
CODE_AND_DOCS = {".py", ".pyc", ".md"}  # shipped as modules, or not needed at run time


def load_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


COMPOSE_DOC = load_docs(COMPOSE)[0]
K8S = [(path, doc) for path in K8S_FILES for doc in load_docs(path)]


def k8s(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in K8S if d["kind"] == kind}


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def containers(image_prefix: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, container) for every container running an image of ours."""
    return [
        (doc, c)
        for _, doc in K8S
        if doc["kind"] in WORKLOADS
        for c in pod_spec(doc)["containers"]
        if c["image"].startswith(image_prefix)
    ]


def dockerfile_stages(path: Path) -> list[list[tuple[str, str]]]:
    """Instructions per stage, continuation lines joined and comments dropped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    text = "\n".join(ln for ln in lines if not ln.lstrip().startswith("#"))
    stages: list[list[tuple[str, str]]] = []
    for raw in text.replace("\\\n", " ").splitlines():
        if not raw.strip():
            continue
        instruction, _, rest = raw.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), rest.strip()))
    return stages


def argv(rest: str) -> list[str]:
    """Exec form (JSON) or shell form, cut at the first shell operator."""
    if rest.startswith("["):
        return list(json.loads(rest))
    words = shlex.split(rest)
    cut = [i for i, w in enumerate(words) if w in {"&&", "||", ";", "|"}]
    return words[: cut[0]] if cut else words


def last(stage: list[tuple[str, str]], instruction: str) -> str:
    return [rest for ins, rest in stage if ins == instruction][-1]


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def app_commands() -> list[list[str]]:
    """Every `vrijwilligerskracht ...` command line in the Dockerfile, compose and k8s."""
    found: list[list[str]] = []
    for stage in dockerfile_stages(DOCKERFILE):
        found += [argv(rest) for ins, rest in stage if ins in {"RUN", "CMD"}]
    for service in COMPOSE_DOC["services"].values():
        if "command" in service:
            found.append(list(service["command"]))
    for _, c in containers(APP_IMAGE):
        found.append([*c.get("command", []), *c.get("args", [])])
    return [cmd for cmd in found if cmd and cmd[0] == "vrijwilligerskracht"]


# ---------------------------------------------------------------- YAML and settings


def test_yaml_parses_and_manifests_are_namespace_free() -> None:
    assert {"app", "postgres", "rasa"} <= set(COMPOSE_DOC["services"])
    assert len(K8S) >= 10
    for path, doc in K8S:
        assert doc.get("apiVersion") and doc.get("kind"), path
        assert doc["metadata"].get("name"), path
        assert "namespace" not in doc["metadata"], f"{path}: manifests must be namespace-free"
    for kind in ("Deployment", "Service", "ConfigMap", "Secret", "Job"):
        assert k8s(kind), f"no {kind} in deploy/k8s"
    assert k8s("HorizontalPodAutoscaler") and k8s("StatefulSet")


def test_every_vk_name_is_a_settings_field() -> None:
    for path in [COMPOSE, *K8S_FILES, DOCKERFILE, RASA_DOCKERFILE, README]:
        names = set(re.findall(r"\bVK_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8")))
        assert names <= FIELDS, f"{path.name}: not settings: {sorted(names - FIELDS)}"


def test_readme_documents_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    missing = sorted(name for name in FIELDS if f"`{name}`" not in text)
    assert not missing, f"deploy/README.md does not document {missing}"


def test_k8s_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    config = k8s("ConfigMap")["vrijwilligerskracht-config"]["data"]
    secret = k8s("Secret")["vrijwilligerskracht-secrets"]["stringData"]
    assert not set(config) & set(secret)
    assert {"VK_DATABASE_URL", "VK_SECRET_KEY"} <= set(secret)
    for name, value in {**config, **secret}.items():
        assert isinstance(value, str), name
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert not settings.telegram_token and not settings.rasa_url  # empty means off


def test_compose_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(value: str) -> str:  # ${X:-default} -> default, ${X:?error} -> a set value
        pattern = r"\$\{[A-Z_]+(?::?([-?])([^}]*))?\}"
        return re.sub(pattern, lambda m: m[2] if m[1] == "-" else "set", value)

    env = COMPOSE_DOC["services"]["app"]["environment"]
    for name, value in env.items():
        monkeypatch.setenv(name, resolve(str(value)))
    settings = Settings(_env_file=None)
    assert "@postgres:5432/" in settings.database_url
    assert settings.secret_key == "set"  # required: compose refuses to start without it
    assert "VK_RASA_URL=http://rasa:5005" in COMPOSE.read_text(encoding="utf-8")


# ---------------------------------------------------------------- commands


def test_commands_are_real_cli_commands() -> None:
    commands = app_commands()
    assert ["vrijwilligerskracht", "db", "upgrade"] in commands
    assert any(cmd[1:3] == ["nlu", "train"] for cmd in commands)
    assert sum(cmd[1] == "serve" for cmd in commands) >= 3  # Dockerfile, compose, k8s
    root = typer.main.get_command(cli_app)
    for cmd in commands:
        words, node = cmd[1:], root
        path: list[str] = []
        while isinstance(node, TyperGroup):
            sub = node.get_command(node.context_class(node), words[0])
            assert sub is not None, f"{cmd}: no command {words[0]!r}"
            path.append(words.pop(0))
            node = sub
        assert path, cmd
        result = CliRunner().invoke(cli_app, [*path, "--help"])
        assert result.exit_code == 0, (cmd, result.output)
        node.make_context(" ".join(path), list(words))  # raises on unknown options or values


# ---------------------------------------------------------------- ports, health, users


async def test_ports_and_health_paths_agree_with_the_app(settings: Settings) -> None:
    from bot.app import create_app

    app = create_app(settings)
    routes = {getattr(r, "path", None) for r in app.routes}
    assert {"/healthz", "/readyz", "/metrics"} <= routes
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://vk.test"
    ) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.json()
        assert (await http.get("/metrics")).status_code == 200

    final = dockerfile_stages(DOCKERFILE)[-1]
    port = int(last(final, "EXPOSE"))
    serves = [cmd for cmd in app_commands() if cmd[1] == "serve"]
    assert {int(option(cmd, "--port")) for cmd in serves} == {port}
    assert all(option(cmd, "--host") == "0.0.0.0" for cmd in serves)
    assert f"127.0.0.1:{port}/healthz" in last(final, "HEALTHCHECK")

    compose_app = COMPOSE_DOC["services"]["app"]
    assert [p.split(":")[-1] for p in compose_app["ports"]] == [str(port)]
    assert f"127.0.0.1:{port}/healthz" in " ".join(compose_app["healthcheck"]["test"])

    deployment = k8s("Deployment")["vrijwilligerskracht"]
    (container,) = pod_spec(deployment)["containers"]
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert list(named.values()) == [port]
    # Alive (no database query) for startup and liveness; ready (migrated, model loaded,
    # database answering) for readiness.
    paths = {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for probe, path in paths.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path and get["path"] in routes, probe
        assert named.get(get["port"], get["port"]) == port, probe
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] in routes

    service = k8s("Service")["vrijwilligerskracht"]
    assert [named.get(p["targetPort"], p["targetPort"]) for p in service["spec"]["ports"]] == [port]
    backend = k8s("Ingress")["vrijwilligerskracht"]["spec"]["rules"][0]["http"]["paths"][0]
    assert backend["backend"]["service"]["name"] == "vrijwilligerskracht"
    assert backend["backend"]["service"]["port"]["name"] in {
        p["name"] for p in service["spec"]["ports"]
    }


def test_metrics_token_is_in_the_secret_and_documented() -> None:
    secret = k8s("Secret")["vrijwilligerskracht-secrets"]["stringData"]
    assert "VK_METRICS_TOKEN" in secret
    assert "VK_METRICS_TOKEN" not in k8s("ConfigMap")["vrijwilligerskracht-config"]["data"]
    text = README.read_text(encoding="utf-8")
    assert "scrape_configs:" in text and "authorization:" in text


def test_rasa_ports_agree() -> None:
    final = dockerfile_stages(RASA_DOCKERFILE)[-1]
    port = int(last(final, "EXPOSE"))
    cmd = argv(last(final, "CMD"))
    assert cmd[:2] == ["rasa", "run"] and "--enable-api" in cmd
    assert int(option(cmd, "--port")) == port
    ((_, container),) = containers(RASA_IMAGE)
    assert container["command"] == cmd
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert [p["port"] for p in k8s("Service")["rasa"]["spec"]["ports"]] == [port]
    assert f"http://rasa:{port}" in (DEPLOY / "k8s" / "configmap.yaml").read_text()
    assert f"VK_RASA_URL=http://rasa:{port}" in COMPOSE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("dockerfile", "image"), [(DOCKERFILE, APP_IMAGE), (RASA_DOCKERFILE, RASA_IMAGE)]
)
def test_images_run_as_non_root(dockerfile: Path, image: str) -> None:
    stages = dockerfile_stages(dockerfile)
    assert len(stages) >= 2, "multi-stage build"
    assert "slim" in stages[-1][0][1]
    user = last(stages[-1], "USER").split(":")[0]
    assert user.isdigit() and int(user) != 0, "numeric non-root uid (runAsNonRoot checks it)"
    for workload, _ in containers(image):
        context = pod_spec(workload)["securityContext"]
        assert context["runAsNonRoot"] is True and context["runAsUser"] == int(user)


# ---------------------------------------------------------------- manifests hang together


def test_k8s_references_resolve() -> None:
    names = {kind: set(k8s(kind)) for kind in ("ConfigMap", "Secret", "Deployment")}
    pods = [doc for _, doc in K8S if doc["kind"] in WORKLOADS]
    for doc in pods:
        labels = doc["spec"]["template"]["metadata"]["labels"]
        if "selector" in doc["spec"]:
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()
        for c in pod_spec(doc)["containers"]:
            for ref in c.get("envFrom", []):
                kind, ref_name = (
                    ("ConfigMap", ref["configMapRef"]["name"])
                    if "configMapRef" in ref
                    else ("Secret", ref["secretRef"]["name"])
                )
                assert ref_name in names[kind], f"{doc['metadata']['name']}: no {kind} {ref_name}"
    for service in k8s("Service").values():
        selector = service["spec"]["selector"].items()
        assert any(selector <= d["spec"]["template"]["metadata"]["labels"].items() for d in pods)
    for hpa in k8s("HorizontalPodAutoscaler").values():
        target = k8s("Deployment")[hpa["spec"]["scaleTargetRef"]["name"]]
        for c in pod_spec(target)["containers"]:
            assert c["resources"]["requests"]["cpu"], "HPA on CPU needs a CPU request"
    images = {c["image"] for _, c in containers(APP_IMAGE)}
    assert len(images) == 1, f"migration Job and Deployment must run one image: {images}"


# ---------------------------------------------------------------- build context


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative, /-separated) out of the build context."""
    excluded = False
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        regex = regex.replace(".*/", "(.*/)?").replace(r"\?", "[^/]")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(re.fullmatch(regex, p) for p in prefixes):
            excluded = not negate
    return excluded


def test_build_context_holds_what_the_dockerfiles_copy() -> None:
    for dockerfile in (DOCKERFILE, RASA_DOCKERFILE):
        for stage in dockerfile_stages(dockerfile):
            for ins, rest in stage:
                words = rest.split()
                if ins != "COPY" or any(w.startswith("--from") for w in words):
                    continue
                for source in words[:-1]:
                    if source == ".":
                        continue
                    assert (ROOT / source).exists(), f"{dockerfile.name}: {source} missing"
                    files = [ROOT / source] if (ROOT / source).is_file() else []
                    files += [p for p in (ROOT / source).rglob("*") if p.is_file()]
                    for file in files:
                        rel = file.relative_to(ROOT).as_posix()
                        if "__pycache__" not in rel:
                            assert not dockerignored(rel), f"{dockerfile.name}: {rel} ignored"
    for kept in ("pyproject.toml", "NOTICE", "bot/app.py", "quiz/engine.py", "nlu_data/train"):
        assert not dockerignored(kept), kept
    for dropped in (".venv/bin/python", "var/x.db", ".env", "node_modules/x", "tests/x.py"):
        assert dockerignored(dropped), dropped
    assert dockerignored("bot/__pycache__/app.cpython-311.pyc")


def test_package_data_ships_the_runtime_files() -> None:
    """The image installs the wheel (`pip install .`), not the source tree: every data file in
    bot/ and quiz/ that the build context carries must match a package-data pattern."""
    with (ROOT / "pyproject.toml").open("rb") as fh:
        patterns = tomllib.load(fh)["tool"]["setuptools"]["package-data"]
    for package in ("bot", "quiz"):
        shipped = {p for pattern in patterns[package] for p in (ROOT / package).glob(pattern)}
        for file in (ROOT / package).rglob("*"):
            rel = file.relative_to(ROOT).as_posix()
            if not file.is_file() or file.suffix in CODE_AND_DOCS or dockerignored(rel):
                continue
            assert file in shipped, f"{rel} is not package data: add it in pyproject.toml"
