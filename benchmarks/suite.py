"""What every part of `benchmarks.run` shares: the run's results so far, and how figures read.

A part is a function `run(suite)` in benchmarks/parts/ that measures one thing and adds a
section (and goals) to the suite; `benchmarks.run` chooses the parts and writes the report.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import media
from benchmarks.measured import Measured

REPO = Path(__file__).resolve().parents[1]
WORK = media.WORK
RESULTS = REPO / "benchmarks" / "RESULTS.md"
MB = 1_000_000


def lesson_file(cfg: argparse.Namespace, codec: str, length: float) -> Path:
    """A benchmark lesson; all lengths of a run share one encoded piece."""
    piece = min(cfg.piece_minutes, max(cfg.lengths))
    return media.lesson(codec, length, piece_minutes=piece)


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Our environment, pointed at a private data folder so nothing touches var/."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPCOACH_")}
    env.update(
        CLIPCOACH_DATA_DIR=str(data_dir),
        CLIPCOACH_SEED_DEMO="false",
        CLIPCOACH_SECRET_KEY="benchmark-secret-key-that-is-long-enough-for-hs256",
        **extra,
    )
    return env


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.2f} min" if seconds >= 60 else f"{seconds:.1f} s"


def megabytes(n: float) -> str:
    return f"{n / MB:,.0f} MB"


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Goal:
    """A line of the goals table: the issue's target, our figure, the peer's, the verdict."""

    goal: str
    ours: str
    peer: str
    verdict: str


@dataclass
class Section:
    title: str
    body: str


@dataclass
class Suite:
    config: argparse.Namespace
    sections: list[Section] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    e2e: list[dict[str, Any]] = field(default_factory=list)
    peers: dict[tuple[str, float], dict[str, Any]] = field(default_factory=dict)
    floors: dict[tuple[str, float], Measured] = field(default_factory=dict)

    def add(self, title: str, body: str) -> None:
        self.sections.append(Section(title, body))


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def commit() -> str:
    """The short hash of the checked-out commit, for a report's header."""
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    return out.stdout.strip() or "?"
