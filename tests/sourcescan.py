"""Finding a rule's second copy by parsing the code (nothing is imported to look).

"One rule, one place" tests ask which modules of a package spell a string the rule's home
module owns: a storage key's prefix, ffmpeg's global flags.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def strings_outside(package: str, wanted: Callable[[str], bool], *homes: str) -> list[str]:
    """`path:line` of every string constant (f-string parts too) in `package` that `wanted`
    matches, in any module but the `homes` (paths from the repository root)."""
    skip = {ROOT / home for home in homes}
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if path not in skip
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and wanted(node.value)
    ]
