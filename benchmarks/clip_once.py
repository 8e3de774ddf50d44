"""Our clip render in a process of its own: `python -m benchmarks.clip_once SRC DST START END`.

Runs `pipeline.clip.render_clip` once and prints `{"seconds"}`, the render alone; the caller
measures the whole process too (imports included), as a worker would pay them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pipeline.clip import render_clip


def main(argv: list[str]) -> int:
    src, dst, start, end = Path(argv[0]), Path(argv[1]), float(argv[2]), float(argv[3])
    started = time.perf_counter()
    render_clip(src, dst, start, end)
    print(json.dumps({"seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
