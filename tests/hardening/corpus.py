"""The bad-input corpus: recordings a school will really upload, broken in every way we know of.

Everything is generated (ffmpeg lavfi, plain bytes, byte surgery on MP4 boxes), so nothing large is
committed. Run it by hand to get the files:

    .venv/bin/python -m tests.hardening.corpus OUTDIR [--with-long]

or import it: `CASES` is the table of cases, each with how it is made and the outcome we promise
(the same table is in docs/reliability.md). `Expect.ok` means the lesson becomes `ready`
(`media` names the normalised file, `words` says whether a transcript with words is expected,
`warning` a fragment of a warning the lesson must carry); `Expect.fail` names the stage that
refuses the file and its stable error code.

Cases about names and sizes (spaces, quotes, `../`, very long names, over the size limit) are not
files but requests; they live in `NAME_CASES` and are tested through the API and the CLI.
"""

from __future__ import annotations

import argparse
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests import mediafactory as mf

LONG_SILENCE_SECONDS = 3 * 3600


@dataclass(frozen=True)
class Expect:
    ok: bool
    stage: str | None = None
    code: str | None = None
    media: str | None = None
    words: bool = False
    warning: str | None = None
    transcript: bool = True
    """Whether transcript files are expected (False: no sound, or nothing to transcribe)."""

    @staticmethod
    def ready(
        media: str = "lesson.mp4",
        *,
        words: bool = False,
        warning: str | None = None,
        transcript: bool = True,
    ) -> Expect:
        return Expect(True, media=media, words=words, warning=warning, transcript=transcript)

    @staticmethod
    def refused(stage: str, code: str) -> Expect:
        return Expect(False, stage=stage, code=code)

    def describe(self) -> str:
        if not self.ok:
            return f"fails at `{self.stage}`: `{self.code}`"
        parts = [f"ready, `{self.media}`"]
        if not self.transcript:
            parts.append("no transcript (no sound)")
        elif self.words:
            parts.append("transcript with words")
        else:
            parts.append("empty transcript")
        if self.warning:
            parts.append(f'warning "{self.warning}…"')
        return ", ".join(parts)


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    what: str
    make: Callable[[Path], object]
    expect: Expect
    long: bool = False
    """Too slow for the default run (marked `slow`)."""


# -- byte surgery on MP4 boxes ------------------------------------------------------------------


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each top-level ISO-BMFF box."""
    boxes = []
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        if size < 8:
            break
        boxes.append((kind, pos, min(pos + size, len(data))))
        pos += size
    return boxes


def box(data: bytes, kind: bytes) -> tuple[int, int]:
    for found, start, end in top_level_boxes(data):
        if found == kind:
            return start, end
    raise ValueError(f"no {kind!r} box")


# -- makers -------------------------------------------------------------------------------------


def _lesson(path: Path, *, faststart: bool = False, duration: float = 4.0) -> None:
    extra = ["-movflags", "+faststart"] if faststart else []
    mf.make_video(path, duration=duration, gop=25, extra=extra)


def _truncated(fraction: float, *, faststart: bool) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        whole = path.with_name(f".whole.{path.name}")
        # 12 s, so that even the 90 % cut loses more than the 1 s normalise lets pass unremarked
        _lesson(whole, faststart=faststart, duration=12.0)
        mf.truncate_copy(whole, path, fraction)
        whole.unlink()

    return make


def _no_index(path: Path) -> None:
    """The recording without its moov box (the camera died before writing the index)."""
    whole = path.with_name(f".whole.{path.name}")
    _lesson(whole)
    data = whole.read_bytes()
    start, end = box(data, b"moov")
    path.write_bytes(data[:start] + data[end:])
    whole.unlink()


def _corrupt_mid_mdat(path: Path) -> None:
    """8 KiB of noise written over the middle of the media data (a bad sector, a flaky card)."""
    whole = path.with_name(f".whole.{path.name}")
    _lesson(whole, faststart=True)
    data = bytearray(whole.read_bytes())
    start, end = box(bytes(data), b"mdat")
    middle = (start + end) // 2
    noise = np.random.default_rng(11).integers(0, 256, 8192, dtype=np.uint8).tobytes()
    data[middle : middle + len(noise)] = noise
    path.write_bytes(bytes(data))
    whole.unlink()


def _absurd_dimensions(path: Path) -> None:
    """A raw YUV4MPEG stream whose header claims 30000x30000 pixels, with one tiny 'frame'."""
    path.write_bytes(b"YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + b"\x80" * 4096)


def _patched_dimensions(path: Path) -> None:
    """An MP4 whose tkhd and avc1 sample entry claim 30000x30000 (the H.264 in it is 320x240)."""
    whole = path.with_name(f".whole.{path.name}")
    _lesson(whole, duration=2.0)
    data = bytearray(whole.read_bytes())
    tkhd = data.find(b"tkhd")
    size = struct.unpack(">I", data[tkhd - 4 : tkhd])[0]
    end = tkhd - 4 + size
    data[end - 8 : end] = struct.pack(">II", 30000 << 16, 30000 << 16)
    avc1 = data.find(b"avc1")
    data[avc1 + 28 : avc1 + 32] = struct.pack(">HH", 30000, 30000)
    path.write_bytes(bytes(data))
    whole.unlink()


def _one_frame(path: Path) -> None:
    mf.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-frames:v", "1",
              *mf.VIDEO_CODEC_ARGS["h264"], path)  # fmt: skip


def _zero_seconds(path: Path) -> None:
    """A valid MP4 container whose streams hold no samples at all."""
    mf.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-f", "lavfi", "-i",
              "sine=sample_rate=48000", "-t", "0", *mf.VIDEO_CODEC_ARGS["h264"],
              *mf.AUDIO_CODEC_ARGS["aac"], path)  # fmt: skip


def _subtitles_only(path: Path) -> None:
    srt = path.with_name(f".{path.stem}.srt")
    srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nHello\n", encoding="utf-8")
    mf.ffmpeg("-i", srt, "-c:s", "srt", path)
    srt.unlink()


def _eight_khz_mono(path: Path) -> None:
    mf.ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=4", "-ac", "1",
              "-c:a", "pcm_s16le", path)  # fmt: skip


def _six_channels(path: Path) -> None:
    mf.ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
              "-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", "-c:a", "aac", "-b:a", "192k",
              path)  # fmt: skip


def _silence(seconds: float) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        # 8 kbit/s AAC of digital silence: three hours is about 11 MB, made in seconds.
        mf.ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", str(seconds),
                  "-c:a", "aac", "-b:a", "8k", path)  # fmt: skip

    return make


def _png_renamed(path: Path) -> None:
    mf.make_image(path.with_suffix(".png"))
    path.with_suffix(".png").rename(path)


def _video_only(path: Path) -> None:
    mf.make_video(path, duration=3.0, acodec=None)


def _rotated(path: Path) -> None:
    mf.make_video(path, duration=3.0, rotation=90)


def _hevc(path: Path) -> None:
    mf.make_video(path, duration=3.0, vcodec="hevc", acodec="opus")


def _spoken(path: Path) -> None:
    speech = path.with_name(f".{path.stem}.wav")
    mf.make_speech(speech, ["Good morning everyone. Today we are learning about fractions."])
    mf.add_video_to_audio(speech, path)
    speech.unlink()


CASES: tuple[Case, ...] = (
    Case("zero_bytes", "lesson.mp4", "zero-byte file", lambda p: p.write_bytes(b""),
         Expect.refused("probe", "empty_file")),
    Case("random_bytes", "lesson.mp4", "64 KiB of random bytes named .mp4", mf.write_random,
         Expect.refused("probe", "not_media")),
    Case("text_renamed", "plan.mp4", "a text file renamed .mp4", mf.write_text,
         Expect.refused("probe", "not_media")),
    Case("pdf_renamed", "slides.mov", "a PDF renamed .mov", mf.write_pdf,
         Expect.refused("probe", "not_media")),
    Case("jpeg_renamed", "photo.mp4", "a JPEG picture renamed .mp4", mf.make_image,
         Expect.refused("probe", "not_media")),
    Case("png_renamed", "board.mkv", "a PNG picture renamed .mkv",
         _png_renamed,
         Expect.refused("probe", "not_media")),
    Case("truncated_10_moov_end", "cut.mp4", "first 10 % of an MP4 (index at the end)",
         _truncated(0.1, faststart=False), Expect.refused("probe", "unreadable_media")),
    Case("truncated_50_moov_end", "cut.mp4", "first 50 % of an MP4 (index at the end)",
         _truncated(0.5, faststart=False), Expect.refused("probe", "unreadable_media")),
    Case("truncated_90_moov_end", "cut.mp4", "first 90 % of an MP4 (index at the end)",
         _truncated(0.9, faststart=False), Expect.refused("probe", "unreadable_media")),
    Case("truncated_10_faststart", "cut.mp4", "first 10 % of a faststart MP4",
         _truncated(0.1, faststart=True), Expect.ready(warning="truncated")),
    Case("truncated_50_faststart", "cut.mp4", "first 50 % of a faststart MP4",
         _truncated(0.5, faststart=True), Expect.ready(warning="truncated")),
    Case("truncated_90_faststart", "cut.mp4", "first 90 % of a faststart MP4",
         _truncated(0.9, faststart=True), Expect.ready(warning="truncated")),
    Case("missing_index", "noindex.mp4", "an MP4 with its moov box removed", _no_index,
         Expect.refused("probe", "unreadable_media")),
    Case("corrupt_mid_mdat", "glitch.mp4", "8 KiB of noise over the middle of mdat",
         _corrupt_mid_mdat, Expect.ready()),
    Case("absurd_dimensions_y4m", "huge.y4m", "raw stream whose header claims 30000x30000",
         _absurd_dimensions, Expect.refused("probe", "not_media")),
    Case("absurd_dimensions_mp4", "huge.mp4", "MP4 whose tkhd/avc1 claim 30000x30000",
         _patched_dimensions, Expect.ready()),
    Case("audio_only", "talk.m4a", "AAC audio only", lambda p: mf.make_tone(p, duration=4.0),
         Expect.ready("lesson.m4a")),
    Case("video_only", "silent film.mp4", "H.264 with no audio stream",
         _video_only,
         Expect.ready(transcript=False)),
    Case("one_frame", "still.mp4", "an H.264 MP4 holding a single frame", _one_frame,
         Expect.ready(transcript=False)),
    Case("zero_seconds", "empty.mp4", "an MP4 whose streams hold no samples", _zero_seconds,
         Expect.refused("probe", "no_streams")),
    Case("subtitles_only", "captions.mkv", "a Matroska file with only a subtitle stream",
         _subtitles_only, Expect.refused("probe", "no_streams")),
    Case("variable_frame_rate", "phone.mp4", "30 fps then 15 fps", mf.make_vfr_video,
         Expect.ready()),
    Case("rotated_90", "portrait.mp4", "landscape pixels with a 90° display matrix",
         _rotated, Expect.ready()),
    Case("hevc_mkv", "phone.mkv", "HEVC in Matroska (needs a transcode)",
         _hevc,
         Expect.ready()),
    Case("eight_khz_mono", "phone call.wav", "8 kHz mono PCM", _eight_khz_mono,
         Expect.ready("lesson.m4a")),
    Case("six_channels", "surround.m4a", "5.1 AAC", _six_channels, Expect.ready("lesson.m4a")),
    Case("short_silence", "quiet.m4a", "ten seconds of digital silence", _silence(10),
         Expect.ready("lesson.m4a")),
    Case("speech", "Year 7 fractions.mp4", "a spoken lesson (the control case)", _spoken,
         Expect.ready(words=True)),
    Case("three_hour_silence", "long quiet.m4a", "three hours of silence, 8 kbit/s AAC",
         _silence(LONG_SILENCE_SECONDS), Expect.ready("lesson.m4a"), long=True),
)  # fmt: skip


@dataclass(frozen=True)
class NameCase:
    name: str
    filename: str
    what: str
    expect: str


NAME_CASES: tuple[NameCase, ...] = (
    NameCase("spaces", "Year 7 maths lesson 3.mp4", "spaces", "accepted, name kept for display"),
    NameCase("quotes", "Mr O'Brien's \"best\" lesson.mp4", "quotes", "accepted, name kept"),
    NameCase("non_ascii", "Leçon d'été – Zoë 数学.mp4", "non-ASCII letters", "accepted, name kept"),
    NameCase("dot_dot", "../../../etc/passwd.mp4", "`../` in the name",
             "accepted; stored under a generated key, nothing written outside storage"),
    NameCase("backslashes", "..\\..\\windows\\lesson.mp4", "Windows `..\\` in the name",
             "accepted; stored under a generated key"),
    NameCase("very_long", "l" * 1500 + ".mp4", "a 1500-character name",
             "multipart: accepted, display name cut to 1024 characters; resumable: 422 at "
             "`POST /uploads` (names are at most 1024 characters), nothing created"),
)  # fmt: skip

OVERSIZE = "upload over the size limit: 413 while streaming (chunked create: before any byte)"


def markdown_table() -> str:
    """The corpus as the table in docs/reliability.md."""
    rows = ["| case | input | expected outcome |", "| --- | --- | --- |"]
    for case in CASES:
        slow = " (`slow`)" if case.long else ""
        rows.append(f"| `{case.name}`{slow} | {case.what} | {case.expect.describe()} |")
    for name in NAME_CASES:
        rows.append(f"| `{name.name}` | upload named with {name.what} | {name.expect} |")
    rows.append(f"| `oversize` | {OVERSIZE.split(':')[0]} | 413{OVERSIZE.split('413')[1]} |")
    return "\n".join(rows)


def generate(out: Path, *, with_long: bool = False) -> list[Path]:
    """Write every case (the long ones only if asked) into `out/<case>/<filename>`."""
    made = []
    for case in CASES:
        if case.long and not with_long:
            continue
        folder = out / case.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / case.filename
        case.make(path)
        made.append(path)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--with-long", action="store_true", help="also the 3-hour recording")
    parser.add_argument("--table", action="store_true", help="print the outcome table only")
    args = parser.parse_args(argv)
    if args.table:
        sys.stdout.write(markdown_table() + "\n")
        return 0
    for path in generate(args.out, with_long=args.with_long):
        sys.stdout.write(f"{path}\t{path.stat().st_size}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
