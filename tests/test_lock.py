"""The lock files are in step with pyproject.toml: every dependency it names is pinned there.

`scripts/bootstrap.sh` installs only from the locks (with hashes), so a dependency added to
pyproject.toml without `make lock` would be missing from every fresh install; this catches it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\;]+)", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    return {canonicalize_name(n): v for n, v in PIN.findall((ROOT / lock).read_text())}


def declared(extra: str | None) -> list[Requirement]:
    names = list(PROJECT["dependencies"])
    if extra:
        names += PROJECT["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


@pytest.mark.parametrize(
    ("lock", "extra"), [("requirements.lock", None), ("requirements-dev.lock", "dev")]
)
def test_every_dependency_is_pinned_at_a_version_pyproject_allows(
    lock: str, extra: str | None
) -> None:
    pinned = pins(lock)
    wrong = [
        f"{req}: locked {pinned.get(canonicalize_name(req.name), 'nowhere')}"
        for req in declared(extra)
        if canonicalize_name(req.name) not in pinned
        or not req.specifier.contains(pinned[canonicalize_name(req.name)], prereleases=True)
    ]
    assert wrong == [], "run `make lock` after changing pyproject.toml"


def test_every_pin_carries_a_hash() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert entries and all("--hash=sha256:" in entry for entry in entries if "==" in entry)


def test_the_runtime_lock_holds_no_test_tools() -> None:
    runtime = pins("requirements.lock")
    dev_only = {canonicalize_name(r.name) for r in declared("dev")} - {
        canonicalize_name(r.name) for r in declared(None)
    }
    assert dev_only & set(runtime) == set()
