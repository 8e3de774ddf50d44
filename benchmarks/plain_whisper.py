"""The plain faster-whisper peer: `python -m benchmarks.plain_whisper MODEL FILE`.

What a user would run without clipcoach, with the library's defaults: load the model, transcribe
the file, and print `{"words": N}` so the caller can check both systems heard the speech.
"""

from __future__ import annotations

import json
import sys

from faster_whisper import WhisperModel


def main(argv: list[str]) -> int:
    model = WhisperModel(argv[0])
    segments, _ = model.transcribe(argv[1])
    print(json.dumps({"words": sum(len(s.text.split()) for s in segments)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
