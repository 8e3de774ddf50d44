"""Suggested strands: how often the strand a mentor would tag is the first, or among the three,
suggestions for a clip.

    python -m benchmarks.strands [--out benchmarks/strands_results.md]

Three sets of labelled clip transcripts, teacher-style speech with the ECF (2019) strand a mentor
would tag: tests/data/strands/clips.yaml, the development set the cue phrases in
models/strand-cues.yaml were written against; tests/data/strands/heldout.yaml, held out when the
cues were first written but looked at when they were revised on 2026-12-03; and
tests/data/strands/heldout2.yaml, written before that revision and never used to change it.
Ranked by `models.suggest` over the built-in framework's 112 "learn how to" strands; chance of a
right top 3 is 3 in 112.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from models.framework import read_framework_file
from models.suggest import BUILTIN_FRAMEWORK, ClipFigures, ranker, strand_texts

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "strands"
SETS = {
    "development": DATA / "clips.yaml",
    "first held-out (tuned on 2026-12-03)": DATA / "heldout.yaml",
    "held-out (2026-12-03)": DATA / "heldout2.yaml",
}


def load(path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return items


def evaluate(items: list[dict[str, Any]]) -> dict[str, Any]:
    framework = read_framework_file(BUILTIN_FRAMEWORK)
    rank = ranker(framework.id, strand_texts(framework.strands))
    top1 = top3 = 0
    misses: list[str] = []
    started = time.perf_counter()
    for item in items:
        got = rank.suggest(item["text"], ClipFigures(**(item.get("figures") or {})))
        codes = [s.code for s in got]
        top1 += bool(codes) and codes[0] == str(item["strand"])
        if str(item["strand"]) in codes:
            top3 += 1
        else:
            misses.append(f"{item['strand']} -> {', '.join(codes) or 'none'}")
    seconds = time.perf_counter() - started
    standards = Counter(str(item["strand"])[0] for item in items)
    return {
        "n": len(items),
        "top1": top1 / len(items),
        "top3": top3 / len(items),
        "misses": misses,
        "ms_per_clip": 1000 * seconds / len(items),
        "standards": dict(sorted(standards.items())),
    }


def report() -> str:
    lines = [
        "# Suggested strands",
        "",
        "`python -m benchmarks.strands --out benchmarks/strands_results.md`",
        "",
        "| set | clips | top-1 | top-3 | ms per clip | clips per standard |",
        "|---|---|---|---|---|---|",
    ]
    details = []
    for name, path in SETS.items():
        r = evaluate(load(path))
        per = ", ".join(f"{k}: {v}" for k, v in r["standards"].items())
        lines.append(
            f"| {name} | {r['n']} | {r['top1']:.2f} | {r['top3']:.2f} | "
            f"{r['ms_per_clip']:.1f} | {per} |"
        )
        details.append(f"Missed in the {name} set (labelled -> suggested): "
                       + ("; ".join(r["misses"]) or "none") + ".")  # fmt: skip
    lines += ["", *details, "", "Chance of a right top 3: 3 / 112 = 0.03."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    text = report()
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
