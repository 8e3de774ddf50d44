"""docker-compose.yml stays true to the code: it validates, every CLIPCOACH_* variable is a
setting, every command is a real `clipcoach` command with real options, and start order and
health checks are in place. Runs offline with Debian's docker-compose (no Docker engine needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.settings import Settings
from tests.conftest import REPO

APP_SERVICES = {
    "migrate",
    "api",
    "worker-media",
    "worker-clips",
    "worker-transcribe",
    "worker-transcribe-gpu",
    "scheduler",
}
INFRASTRUCTURE = {"postgres", "redis", "minio"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compose file, Dockerfile and .env.example (as .env) in a folder of their own."""
    folder = tmp_path_factory.mktemp("compose")
    for name in ("docker-compose.yml", "Dockerfile", ".dockerignore"):
        shutil.copy(REPO / name, folder / name)
    shutil.copy(REPO / ".env.example", folder / ".env")
    return folder


def _compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose (Debian package) is needed to validate docker-compose.yml"
    return subprocess.run(
        [binary, "--profile", "gpu", "--profile", "monitoring", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved(project: Path) -> dict[str, Any]:
    """`docker-compose config`: anchors merged, .env interpolated and env_file applied."""
    result = _compose(project, "config")
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_config_validates(project: Path) -> None:
    result = _compose(project, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_missing_secret_is_refused(project: Path, tmp_path: Path) -> None:
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(project / name, tmp_path / name)
    env = (project / ".env").read_text().replace("POSTGRES_PASSWORD=CHANGE_ME\n", "")
    (tmp_path / ".env").write_text(env)
    result = _compose(tmp_path, "config", "-q")
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_services_are_all_there(resolved: dict[str, Any]) -> None:
    assert set(resolved["services"]) == APP_SERVICES | INFRASTRUCTURE | {"flower"}
    assert resolved["services"]["worker-transcribe-gpu"]["profiles"] == ["gpu"]
    assert resolved["services"]["flower"]["profiles"] == ["monitoring"]


def test_every_clipcoach_variable_is_a_setting(resolved: dict[str, Any]) -> None:
    fields = set(Settings.model_fields)
    seen: set[str] = set()
    for name, service in resolved["services"].items():
        env = service.get("environment") or {}
        for key in env:
            if key.startswith("CLIPCOACH_"):
                field = key.removeprefix("CLIPCOACH_").lower()
                assert field in fields, f"{name}: {key} is not a setting in models/settings.py"
                seen.add(field)
    assert {"database_url", "broker_url", "storage_url", "secret_key", "device"} <= seen


def test_backend_urls_are_what_the_code_reads(resolved: dict[str, Any]) -> None:
    from models.queue import celery_config
    from models.storage.s3 import S3Storage

    env = resolved["services"]["worker-media"]["environment"]
    settings = Settings(
        database_url=env["CLIPCOACH_DATABASE_URL"],
        broker_url=env["CLIPCOACH_BROKER_URL"],
        storage_url=env["CLIPCOACH_STORAGE_URL"],
    )
    assert settings.database_url.startswith("postgresql://clipcoach:")
    assert celery_config(settings)["broker_transport_options"]["visibility_timeout"] > 0
    storage = S3Storage.from_url(settings.storage_url)
    assert (storage.endpoint, storage.bucket, storage.secure) == ("minio:9000", "clipcoach", False)
    assert env["CLIPCOACH_SCRATCH_DIR"] == "/scratch"
    gpu = resolved["services"]["worker-transcribe-gpu"]["environment"]
    assert (gpu["CLIPCOACH_DEVICE"], gpu["CLIPCOACH_COMPUTE_TYPE"]) == ("cuda", "float16")


def _clipcoach_group() -> Any:
    """The click-style group behind the Typer app (Typer vendors its own click)."""
    import typer

    from workers.cli import app

    return typer.main.get_command(app)


def test_every_command_is_a_real_clipcoach_command(resolved: dict[str, Any]) -> None:
    group = _clipcoach_group()
    queues_seen: set[str] = set()
    for name in APP_SERVICES:
        command = resolved["services"][name]["command"]
        assert command[0] == "clipcoach", f"{name}: {command}"
        assert command[1] in group.list_commands(None), f"{name}: no `clipcoach {command[1]}`"
        sub = group.get_command(None, command[1])
        ctx = sub.make_context(command[1], list(command[2:]))  # raises on unknown options
        if command[1] == "worker":
            queues_seen.update(ctx.params["queues"].split(","))
    assert {"media", "clips", "transcribe", "maintenance"} <= queues_seen
    beat = [n for n in APP_SERVICES if "--beat" in resolved["services"][n]["command"]]
    assert beat == ["scheduler"], "exactly one service may run the sweep scheduler"


def test_start_order_and_health(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    for name in INFRASTRUCTURE:
        assert "healthcheck" in services[name], name
    for name in APP_SERVICES - {"migrate"}:
        depends = services[name]["depends_on"]
        for infra in INFRASTRUCTURE:
            assert depends[infra]["condition"] == "service_healthy", (name, infra)
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_workers_can_scale(resolved: dict[str, Any]) -> None:
    """`--scale` needs no fixed container name and no published host port."""
    for name in ("worker-media", "worker-clips", "worker-transcribe"):
        service = resolved["services"][name]
        assert "container_name" not in service and "ports" not in service, name


def test_data_lives_in_volumes(resolved: dict[str, Any]) -> None:
    volumes = resolved["volumes"]
    for name, target in (
        ("postgres", "/var/lib/postgresql/data"),
        ("redis", "/data"),
        ("minio", "/data"),
    ):
        mounts = [  # docker-compose v1 prints `source:target:mode` strings
            m.split(":")[:2] if isinstance(m, str) else [m["source"], m["target"]]
            for m in resolved["services"][name]["volumes"]
        ]
        assert any(t == target and s in volumes for s, t in mounts), (name, mounts)
