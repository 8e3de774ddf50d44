"""The layering of DESIGN.md, checked by parsing imports (no module is imported to check it).

`pipeline/` imports nothing of ours; `models/` imports nothing but `models`; `api/` never imports
`workers/` (it enqueues tasks by name) and may use pipeline's pure caption and transcript code,
`api/services/` never imports the web framework, but nothing the web process loads at import
time may reach a heavy media library: that is followed through our own modules, counting
module-level imports (a function-level import runs only where it is called; `if TYPE_CHECKING:`
imports never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"api", "models", "pipeline", "workers"}
HEAVY = {"cv2", "faster_whisper", "onnxruntime", "ctranslate2", "av"}
ALLOWED = {
    "pipeline": {"pipeline"},
    "models": {"models"},
    "workers": {"workers", "models", "pipeline"},
    "api": {"api", "models", "pipeline"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in `path`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, name in _imports(path)
        if name in OURS - ALLOWED[package]
    ]
    assert wrong == []


def _module_level_imports(path: Path) -> set[str]:
    """Dotted names imported when `path` is imported (not in functions, not TYPE_CHECKING)."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try | ast.With):
                visit(node.body)

    visit(ast.parse(path.read_text(), str(path)).body)
    return names


def _source(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def test_the_web_process_never_loads_heavy_media_libraries() -> None:
    start = ["api." + ".".join(p.relative_to(ROOT / "api").with_suffix("").parts)
             for p in (ROOT / "api").rglob("*.py")]  # fmt: skip
    seen: dict[str, str] = {}  # module -> the module that imported it
    frontier = [(m.removesuffix(".__init__"), "") for m in start]
    while frontier:
        module, parent = frontier.pop()
        if module in seen:
            continue
        seen[module] = parent
        path = _source(module)
        if path is None:
            continue
        for name in _module_level_imports(path):
            if name.split(".")[0] in OURS | HEAVY:
                frontier.append((name, module))
    heavy = sorted(f"{seen[m]} imports {m}" for m in seen if m.split(".")[0] in HEAVY)
    assert heavy == []


WEB = {"fastapi", "starlette"}


def test_services_know_nothing_of_http() -> None:
    """`api/services/` takes plain arguments and raises domain errors; routes do the HTTP."""
    services = sorted((ROOT / "api" / "services").rglob("*.py"))
    assert len(services) > 1
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in services
        for line, name in _imports(path)
        if name in WEB
    ]
    assert wrong == []


MOVED = {"api.routes.clips", "api.routes.lessons"}


def test_routes_take_clip_and_lesson_work_from_services() -> None:
    """What other routes once borrowed from the clip and lesson routes lives in `api.services`."""
    borrowing = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}"
        for path in sorted((ROOT / "api").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom) and node.module in MOVED
    ]
    assert borrowing == []


def _route_modules_imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of an `api.routes` module in `path`, however spelled."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("api.routes")]
        elif isinstance(node, ast.ImportFrom):
            module = "api.routes." * (node.level > 0) + (node.module or "")
            if module.rstrip(".") == "api.routes":  # `from api.routes import clips`
                found += [(node.lineno, f"api.routes.{a.name}") for a in node.names]
            elif module.startswith("api.routes."):
                found.append((node.lineno, module))
    return found


def test_no_route_module_imports_another() -> None:
    """Routes are thin and side by side: what two of them share lives in `api/services/` (the
    work) or `api/errors.py` (the HTTP answer), so no router borrows another's private parts."""
    routes = sorted((ROOT / "api" / "routes").glob("*.py"))
    assert len(routes) > 5
    borrowing = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in routes
        if path.name != "__init__.py"
        for line, module in _route_modules_imported(path)
    ]
    assert borrowing == []


def test_the_walks_see_what_they_should(tmp_path: Path) -> None:
    """The checks themselves: nested imports count for layering; only import-time ones load."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nimport numpy\nif TYPE_CHECKING:\n    import cv2\n"
        "def f():\n    import workers.tasks\n"
    )
    assert {name for _, name in _imports(module)} == {"typing", "numpy", "cv2", "workers"}
    assert _module_level_imports(module) == {"typing", "typing.TYPE_CHECKING", "numpy"}
    module.write_text(
        "import api.routes.clips\nfrom api.routes import lessons\nfrom .uploads import x\n"
        "from api.routes.batches import y\nfrom api.services import z\n"
    )
    assert [m for _, m in _route_modules_imported(module)] == [
        "api.routes.clips", "api.routes.lessons", "api.routes.uploads", "api.routes.batches",
    ]  # fmt: skip


def test_benchmarks_never_import_the_test_suite() -> None:
    """The benchmarks run from a checkout without pytest's world: what they share with the tests
    (lesson media, loopback services) lives in benchmarks/ and tests/ imports it from there."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports tests"
        for path in sorted((ROOT / "benchmarks").rglob("*.py"))
        for line, name in _imports(path)
        if name == "tests"
    ]
    assert wrong == []
