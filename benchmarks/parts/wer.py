"""wer: benchmarks/wer.py's recordings and systems, ours against plain faster-whisper."""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.suite import WORK, Goal, Suite, say, table, verdict


def run(suite: Suite) -> None:
    from benchmarks import wer

    say("wer: shared/media/speech, ours and plain")
    cases = wer.load_cases()
    plain, ours = wer.plain_defaults(), wer.ours()
    p_eval = wer.evaluate("plain", plain, cases)
    o_eval = wer.evaluate("ours", ours, cases)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        silent = wer.non_speech_files(Path(tmp))
        words = {
            name: (wer.count_words(ours, path), wer.count_words(plain, path))
            for name, path in silent.items()
        }
    body = (
        f"{len(cases)} recordings with word-level references, "
        f"{sum(f.ref_words for f in p_eval.files)} reference words; both systems use the bundled "
        "tiny.en and the same text normalisation (benchmarks/wer.py).\n\n"
    )
    body += table(
        ["system", "corpus WER", "audio s per compute s"],
        [
            ["ours (VAD, hotwords, silence guard)", f"**{o_eval.wer:.3f}**", f"{o_eval.rtf:.1f}"],
            ["plain faster-whisper defaults", f"**{p_eval.wer:.3f}**", f"{p_eval.rtf:.1f}"],
        ],
    )
    body += "\n\n<details><summary>Per file</summary>\n\n"
    body += wer.accuracy_report(p_eval, o_eval) + "\n\n</details>\n\n"
    body += "Words written over recordings with no speech (should be none):\n\n"
    body += table(
        ["file (30 s generated unless named)", "words ours", "words plain"],
        [[name, o, p] for name, (o, p) in words.items()],
    )
    suite.add("Word error rate", body)
    suite.goals.append(
        Goal(
            "WER on shared/media/speech no worse than plain faster-whisper (same model)",
            f"{o_eval.wer:.3f}",
            f"{p_eval.wer:.3f}",
            verdict(o_eval.wer <= p_eval.wer),
        )
    )
    zero = {k: v for k, v in words.items() if k in ("squirrel.mp4", "silence")}
    suite.goals.append(
        Goal(
            "zero words on squirrel.mp4 and on silence",
            ", ".join(f"{k}: {o}" for k, (o, _) in zero.items()),
            ", ".join(f"{k}: {p}" for k, (_, p) in zero.items()),
            verdict(all(o == 0 for o, _ in zero.values())),
        )
    )
