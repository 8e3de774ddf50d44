"""Make the synthetic sample lesson: espeak-ng speech from a known script over scene cards.

    .venv/bin/python sample_media/make_lesson.py [--out-dir sample_media]

Writes `lesson.mp4` (1280x720 H.264 + AAC mono, keyframe every 2 s, faststart), `lesson_script.txt`
(each passage with its start and end time) and `lesson_script.json` (the same, plus the scene
cards' start times) so tests and benchmarks have ground truth for transcription, pauses and scene
changes. The lesson is a short Year 7 maths lesson: starter question, explanation, a question to
the class with thinking time, instructions for independent work, plenary. Pauses between passages
range from a breath to the silence of pupils working, because that is where Whisper invents words.

Only espeak-ng and ffmpeg (lavfi sources, drawtext with a DejaVu font when installed) are needed,
so the lesson can be rebuilt on any machine; the output is committed so nobody has to.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

SAMPLE_RATE = 22_050  # espeak-ng's native rate: no resampling before AAC
VOICE = "en-gb"
WORDS_PER_MINUTE = 150  # a touch slower than espeak's 175: a teacher addressing a class
WIDTH, HEIGHT, FPS = 1280, 720, 25
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)

# (scene card title, card colour, [(pause before in seconds, passage)])
LESSON: list[tuple[str, str, list[tuple[float, str]]]] = [
    (
        "Starter",
        "0x1f4e79",
        [
            (
                1.5,
                "Good morning, everyone. Come in quietly, sit down and get your books out. "
                "The starter is on the board.",
            ),
            (
                1.2,
                "Here is your starter question. I had a pizza cut into eight slices, and I ate "
                "three of them. What fraction of the pizza is left? Write your answer on your "
                "mini whiteboard. You have one minute.",
            ),
            (
                6.0,
                "Pens down, and show me your boards. Well done, most of you said five eighths. "
                "That is correct.",
            ),
        ],
    ),
    (
        "Main activity",
        "0x385723",
        [
            (
                1.5,
                "Today we are learning about equivalent fractions. Equivalent fractions are "
                "different fractions that have the same value.",
            ),
            (
                0.8,
                "Look at the fraction wall on the board. One half is the same length as two "
                "quarters, and the same length as four eighths.",
            ),
            (
                1.0,
                "To find an equivalent fraction, we multiply the numerator and the denominator "
                "by the same number. If I multiply the top and the bottom of one third by two, "
                "I get two sixths.",
            ),
        ],
    ),
    (
        "Question time",
        "0x7f3f00",
        [
            (
                1.5,
                "Now a question for the whole class. Why does multiplying the top and the "
                "bottom by the same number not change the value? Think about it on your own "
                "for ten seconds.",
            ),
            (7.0, "Now talk to your partner. Then I will pick someone to explain."),
            (
                5.0,
                "Thank you for sharing. You said that we are multiplying by one whole, so the "
                "value stays the same. That is a brilliant explanation.",
            ),
        ],
    ),
    (
        "Independent practice",
        "0x5b2c6f",
        [
            (
                1.5,
                "Here are your instructions. Open your exercise books to a new page, and write "
                "the date and the title, equivalent fractions. Complete questions one to ten "
                "on the worksheet. If you finish, try the challenge at the bottom.",
            ),
            (0.8, "You have ten minutes. Work in silence, please."),
        ],
    ),
    (
        "Plenary",
        "0x7b1f1f",
        [
            (
                9.0,
                "Right, pens down and eyes on me. Let us review what we learned today.",
            ),
            (
                1.0,
                "Tell your partner one fact about equivalent fractions. Then write it on a "
                "sticky note as your exit ticket.",
            ),
            (
                1.2,
                "Next lesson we will use equivalent fractions to add fractions with different "
                "denominators. Well done today, everyone.",
            ),
        ],
    ),
]
TAIL_SECONDS = 3.0
LESSON_TITLE = "Year 7 Maths: Equivalent fractions"


@dataclass(frozen=True)
class Passage:
    section: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Scene:
    title: str
    start: float
    end: float


def speak(text: str, dst: Path) -> bytes:
    """Render one passage with espeak-ng and return its 16-bit mono PCM frames."""
    subprocess.run(
        ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(dst), text],
        check=True,
    )
    with wave.open(str(dst), "rb") as wav:
        if wav.getframerate() != SAMPLE_RATE or wav.getnchannels() != 1:
            raise SystemExit(f"unexpected espeak-ng output format in {dst}")
        return wav.readframes(wav.getnframes())


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * round(seconds * SAMPLE_RATE)


def build_audio(work: Path) -> tuple[Path, list[Passage], list[Scene], float]:
    """Concatenate the passages with their pauses; the times come from exact sample counts."""
    pcm = bytearray()
    passages: list[Passage] = []
    scenes: list[Scene] = []
    for section, _colour, items in LESSON:
        scene_start = len(pcm) / 2 / SAMPLE_RATE
        for index, (pause, text) in enumerate(items):
            pcm += silence(pause)
            start = len(pcm) / 2 / SAMPLE_RATE
            pcm += speak(text, work / f"{section}-{index}.wav")
            end = len(pcm) / 2 / SAMPLE_RATE
            passages.append(Passage(section, round(start, 3), round(end, 3), text))
        if scenes:
            scenes[-1] = Scene(scenes[-1].title, scenes[-1].start, round(scene_start, 3))
        scenes.append(Scene(section, round(scene_start, 3), 0.0))
    pcm += silence(TAIL_SECONDS)
    duration = len(pcm) / 2 / SAMPLE_RATE
    scenes[-1] = Scene(scenes[-1].title, scenes[-1].start, round(duration, 3))
    audio = work / "lesson.wav"
    with wave.open(str(audio), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(pcm))
    return audio, passages, scenes, duration


def find_font() -> str | None:
    return next((f for f in FONT_CANDIDATES if Path(f).is_file()), None)


def _escape_drawtext(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\u2019")


def video_filter(scenes: list[Scene], font: str | None) -> str:
    """One lavfi graph: a coloured card per scene, its title and a running lesson clock.

    Without a font the cards are plain colours, which still give the scene detector its cuts.
    """
    parts = []
    for i, scene in enumerate(scenes):
        colour = next(c for title, c, _ in LESSON if title == scene.title)
        chain = f"color=c={colour}:s={WIDTH}x{HEIGHT}:r={FPS}:d={scene.end - scene.start:.3f}"
        if font:
            chain += (
                f",drawtext=fontfile={font}:text='{_escape_drawtext(scene.title)}'"
                ":fontcolor=white:fontsize=96:x=(w-text_w)/2:y=(h-text_h)/2-40"
                f",drawtext=fontfile={font}:text='{_escape_drawtext(LESSON_TITLE)}'"
                ":fontcolor=white@0.8:fontsize=40:x=(w-text_w)/2:y=h-140"
                f",drawtext=fontfile={font}:text='%{{pts\\:hms\\:{scene.start:.3f}}}'"
                ":fontcolor=white@0.7:fontsize=32:x=w-text_w-30:y=30"
            )
        parts.append(f"{chain}[v{i}]")
    inputs = "".join(f"[v{i}]" for i in range(len(scenes)))
    parts.append(f"{inputs}concat=n={len(scenes)}:v=1:a=0,format=yuv420p[v]")
    return ";".join(parts)


def encode(audio: Path, scenes: list[Scene], dst: Path) -> None:
    font = find_font()
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", str(audio)),
            *("-filter_complex", video_filter(scenes, font), "-map", "[v]", "-map", "0:a"),
            *("-c:v", "libx264", "-preset", "medium", "-crf", "30", "-tune", "stillimage"),
            *("-g", str(2 * FPS), "-keyint_min", str(2 * FPS), "-sc_threshold", "0"),
            *("-c:a", "aac", "-b:a", "64k", "-ac", "1", "-ar", "44100"),
            *("-movflags", "+faststart", "-shortest", str(dst)),
        ],
        check=True,
    )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes):02d}:{secs:06.3f}"


def script_text(passages: list[Passage], scenes: list[Scene], duration: float) -> str:
    lines = [
        f"# {LESSON_TITLE}: synthetic sample lesson, {_clock(duration)} long.",
        f"# espeak-ng voice {VOICE} at {WORDS_PER_MINUTE} words per minute; made by "
        "sample_media/make_lesson.py.",
        "# Scene cards (picture changes) start at: "
        + ", ".join(f"{s.title} {_clock(s.start)}" for s in scenes),
        "# Each passage: [start - end] section: words spoken.",
        "",
    ]
    lines += [f"[{_clock(p.start)} - {_clock(p.end)}] {p.section}: {p.text}" for p in passages]
    return "\n".join(lines) + "\n"


def reference_text(passages: list[Passage]) -> str:
    """Everything spoken, in order: the WER reference for the sample lesson."""
    return " ".join(p.text for p in passages)


def make_lesson(out_dir: Path) -> Path:
    for tool in ("espeak-ng", "ffmpeg"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed: apt-get install {tool}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        audio, passages, scenes, duration = build_audio(Path(tmp))
        lesson = out_dir / "lesson.mp4"
        partial = out_dir / ".lesson.partial.mp4"
        encode(audio, scenes, partial)
        partial.replace(lesson)
    (out_dir / "lesson_script.txt").write_text(script_text(passages, scenes, duration))
    (out_dir / "lesson_script.json").write_text(
        json.dumps(
            {
                "title": LESSON_TITLE,
                "duration": round(duration, 3),
                "voice": VOICE,
                "words_per_minute": WORDS_PER_MINUTE,
                "scenes": [asdict(s) for s in scenes],
                "passages": [asdict(p) for p in passages],
                "reference": reference_text(passages),
            },
            indent=1,
        )
        + "\n"
    )
    return lesson


def main() -> None:
    parser = argparse.ArgumentParser(description="Make the synthetic sample lesson.")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    lesson = make_lesson(args.out_dir)
    print(f"wrote {lesson} ({lesson.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
