"""Frame-accurate clips of a normalised lesson, rendered in about a second ("smart cut").

Only the frames before the first IDR inside the clip (head) and the last few frames B-frames tie
to pictures after the end (tail) are re-encoded; everything between is copied packet for packet,
the last group as far as decode order allows (`_whole_prefix`). The parts are written as
MPEG-TS, which carries the H.264 parameter sets in-band, so the copied middle and the re-encoded
ends may differ in encoder settings and still decode cleanly once joined and muxed into MP4. The
ends are encoded with the lesson's own profile, level, size and pixel format. AAC sound is copied
packet for packet (`copy_sound`, within 11 ms of the picture); other sound is re-encoded.

Frames are chosen by presentation time from the packet list of the clip's window alone (one
seek and a short demux), so the cost does not grow with the lesson's length. A clip holds exactly
the frames whose time t satisfies start <= t < end (to a quarter of a frame).

A copy starts only at an IDR picture, not at every keyframe the container marks. Lessons remuxed
from cameras and phones are often open-GOP: their keyframes are I-frames whose leading B-frames
refer to the previous group, so a copy from one brings in frames from before the clip. And the
re-encoded head brings its own parameter sets: H.264 lets a stream switch back to the lesson's
only at an IDR. A clip with no IDR inside it is re-encoded whole (slower, still exact).

Lessons remuxed from cameras keep their own keyframe spacing, often 10 s, so a head or tail can
be 10 s of 720p. Ends longer than `long_end_seconds` are encoded with `long_end_preset`
(ultrafast: about three times the speed of veryfast at the same CRF, the picture a little less
efficient for those seconds), which keeps a 60 s clip near a second or two whatever the GOP.

A clip that is shared as rendered (`ClipOptions.edit_list`) need not re-encode its head at all:
`copy_with_lead_in` copies the packets from the IDR before the start, and the MP4 edit list says
to play from the start (`pipeline.editlist` trims its end to the last frame too). Decoders that
honour edit lists (libavformat, hence ffmpeg and Chromium) show exactly [start, end); the file
carries up to a group of hidden frames more. Clips processed further (blur, blanked moments,
silenced names) keep the smart cut: their filters re-encode anyway and want exactly the frames.
"""

from __future__ import annotations

import functools
import itertools
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import ffmpeg

from pipeline.editlist import set_file_play_length
from pipeline.errors import ClipRangeError, UnreadableMediaError
from pipeline.probe import ProbeOptions, ProbeResult
from pipeline.probe import probe as probe_media
from pipeline.tools import ProgressCallback, atomic_output, ffmpeg_binary, global_flags, run_tool

H264_PROFILES = {"Constrained Baseline": "baseline", "Baseline": "baseline", "Main": "main"}


@dataclass(frozen=True)
class ClipOptions:
    preset: str = "veryfast"
    crf: int = 20
    """Re-encoded ends use a slightly higher quality than the lesson so the joins do not show."""
    long_end_preset: str = "ultrafast"
    long_end_crf: int = 23
    """ultrafast at CRF 23 keeps the source as well as veryfast at CRF 20 (43.8 against 43.4 dB
    PSNR, SSIM 0.971 both, 10 s of noisy 720p) in 0.64 of the bytes; CRF 20 made 13 Mb/s."""
    long_end_seconds: float = 2.0
    """Ends longer than this (sparse keyframes) use `long_end_preset` to stay quick."""
    audio_bitrate: str = "128k"
    timeout: float = 120.0
    edit_list: bool = False
    """Copy from the IDR before the start instead of re-encoding the head, the lead-in hidden by
    the MP4 edit list: a remux whatever the keyframe spacing (H.264 with AAC or no sound)."""


@dataclass(frozen=True)
class ClipPlan:
    """Which frames are re-encoded and which copied; times are frame presentation times."""

    first_frame: float
    frame_duration: float
    head_frames: int
    copy_start: float | None
    copy_frames: int
    tail_start: float | None
    tail_frames: int

    @property
    def total_frames(self) -> int:
        return self.head_frames + self.copy_frames + self.tail_frames


@dataclass(frozen=True)
class ClipResult:
    path: Path
    start: float
    end: float
    duration: float
    frames: int
    copied_frames: int

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClipResult:
        fields = dict(data)
        fields["path"] = Path(fields["path"])
        return cls(**fields)


def validate_range(start: float, end: float, duration: float) -> None:
    if not (start >= 0 and end <= duration + 1e-3 and start < end):
        raise ClipRangeError(
            f"A clip must start before it ends and lie within the lesson (0 to {duration:.2f} s); "
            f"got {start:.2f} to {end:.2f} s."
        )


def plan_clip(packets: list[tuple[float, bool]], start: float, end: float, fps: float) -> ClipPlan:
    """Split the frames in [start, end) into re-encoded head, copied middle and re-encoded tail.

    `packets` are (presentation time, is a copy point) for the video around the range, in
    decode order (see `read_packets`).
    """
    frames = sorted(packets)
    fd = 1.0 / fps if fps else 0.04
    if len(frames) > 1:
        steps = sorted(b[0] - a[0] for a, b in itertools.pairwise(frames))
        fd = steps[len(steps) // 2] or fd
    eps = fd / 4
    inside = [(t, key) for t, key in frames if start - eps <= t < end - eps]
    if not inside:
        raise ClipRangeError(f"No video frame lies between {start:.2f} and {end:.2f} s.")
    keys = [i for i, (_, key) in enumerate(inside) if key]
    if not keys:
        return ClipPlan(inside[0][0], fd, len(inside), None, 0, None, 0)
    first_key, last_key = keys[0], keys[-1]
    last_copied = last_key + _whole_prefix(packets, inside, last_key, end - eps)
    tail_start = inside[last_copied][0] if last_copied < len(inside) else None
    return ClipPlan(
        first_frame=inside[0][0],
        frame_duration=fd,
        head_frames=first_key,
        copy_start=inside[first_key][0],
        copy_frames=last_copied - first_key,
        tail_start=tail_start,
        tail_frames=len(inside) - last_copied,
    )


def _whole_prefix(
    packets: list[tuple[float, bool]], inside: list[tuple[float, bool]], key: int, end: float
) -> int:
    """How many frames of the last group (from `inside[key]`, an IDR) a copy may take.

    A copy takes packets in decode order, so it may stop only where the pictures decoded so far
    are exactly the first n frames of the group in presentation order: every reference of a
    copied picture is decoded before it, hence copied too, and no picture at or after `end` (to
    which B-frames near the end may refer) comes along. On a 10 s group this leaves a tail of a
    few frames to re-encode instead of up to 10 s.
    """
    shown = [t for t, _ in inside[key:]]
    order = [t for t, _ in packets]
    at = order.index(shown[0])
    best, latest = 0, float("-inf")
    for seen, (t, idr) in enumerate(packets[at:], start=1):
        if t >= end or (idr and seen > 1):
            break
        latest = max(latest, t)
        if seen <= len(shown) and latest == shown[seen - 1]:
            best = seen
    return best


def lead_in_idr(packets: list[tuple[float, bool]], plan: ClipPlan) -> float | None:
    """The time of the last IDR before the clip's first frame, where a copy with a lead-in
    starts; None when the packets read hold none (open-GOP keyframes only)."""
    before = [t for t, idr in packets if idr and t < plan.first_frame - plan.frame_duration / 4]
    return max(before, default=None)


def read_packets(src: Path, start: float, end: float) -> list[tuple[float, bool]]:
    """(presentation time, is an IDR picture) of the video packets from the keyframe before
    `start` - 1 s to `end` + 1 s. Only H.264 in MP4 framing (avcC) has IDR pictures to find."""
    packets = []
    try:
        with av.open(str(src)) as container:
            stream = container.streams.video[0]
            time_base = stream.time_base
            assert time_base is not None  # noqa: S101 - narrows a type the code above guarantees
            length_size = _nal_length_size(stream.codec_context)
            at = round(max(0.0, start - 1) / time_base)
            container.seek(at, stream=stream, backward=True, any_frame=False)
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                shown = float(packet.pts * time_base)
                if shown > end + 1:
                    break
                idr = packet.is_keyframe and _has_idr_slice(bytes(packet), length_size)
                packets.append((shown, idr))
    except av.error.FFmpegError as error:
        message = "The lesson's video could not be read."
        raise UnreadableMediaError(message, detail=str(error)) from error
    return packets


def _nal_length_size(codec: av.codec.context.CodecContext) -> int:
    """Bytes before each NAL unit in an H.264 MP4 packet; 0 when not H.264 in avcC framing."""
    extradata = codec.extradata or b""
    if codec.name != "h264" or len(extradata) < 5 or extradata[0] != 1:
        return 0
    return (extradata[4] & 0x3) + 1


def _has_idr_slice(data: bytes, length_size: int) -> bool:
    if not length_size:
        return False
    pos = 0
    while pos + length_size < len(data):
        size = int.from_bytes(data[pos : pos + length_size], "big")
        nal_type = data[pos + length_size] & 0x1F
        if nal_type == 5:
            return True
        pos += length_size + size
    return False


def encode_args(probe: ProbeResult, options: ClipOptions, seconds: float) -> dict[str, Any]:
    """x264 settings for an end of `seconds`, matching the lesson's profile, level and size."""
    v = probe.video
    assert v is not None  # noqa: S101 - narrows a type the code above guarantees
    long_end = seconds > options.long_end_seconds
    args: dict[str, Any] = {
        "c:v": "libx264",
        "preset": options.long_end_preset if long_end else options.preset,
        "crf": options.long_end_crf if long_end else options.crf,
        "pix_fmt": "yuv420p",
        "profile:v": H264_PROFILES.get(v.profile, "high"),
        "s": f"{v.width}x{v.height}",
        "x264-params": "sps-id=1",
    }
    if v.level:
        args["level:v"] = f"{v.level / 10:g}"
    return args


def part_command(
    src: Path, dst: Path, at: float, frames: int, encode: dict[str, Any] | None
) -> list[str]:
    """One video part as MPEG-TS: `frames` frames from time `at`, copied when `encode` is None."""
    inp = ffmpeg.input(str(src), ss=f"{at:.6f}")
    codec = encode if encode is not None else {"c:v": "copy"}
    out = ffmpeg.output(inp["V:0"], str(dst), an=None, f="mpegts", **{"frames:v": frames}, **codec)
    out = out.global_args(*global_flags())
    return list(out.overwrite_output().compile(cmd=ffmpeg_binary()))


def join_command(concat_list: Path, audio: Path | None, dst: Path) -> list[str]:
    """Join the video parts and the already encoded sound without encoding anything."""
    video = ffmpeg.input(str(concat_list), f="concat", safe=0)
    streams = [video["v:0"]]
    if audio is not None:
        streams.append(ffmpeg.input(str(audio))["a:0"])
    out = ffmpeg.output(
        *streams, str(dst), movflags="+faststart", f="mp4", **{"c": "copy", "tag:v": "avc1"}
    )
    out = out.global_args(*global_flags())
    return list(out.overwrite_output().compile(cmd=ffmpeg_binary()))


TS_PACKET = 188
TS_MIN_BYTES = 16 * TS_PACKET
"""ffmpeg's MPEG-TS probe wants at least ten (FEC-sized) packets: a part of a frame or two of a
still picture is smaller and the join would not recognise it as MPEG-TS."""
TS_NULL_PACKET = b"\x47\x1f\xff\x10" + b"\xff" * (TS_PACKET - 4)


def ts_padding(size: int) -> bytes:
    """Null packets (PID 0x1FFF, which every demuxer skips) to bring a part to TS_MIN_BYTES."""
    missing = max(0, TS_MIN_BYTES - size)
    return TS_NULL_PACKET * -(-missing // TS_PACKET)


def concat_entry(part: Path, seconds: float) -> list[str]:
    quoted = str(part).replace("'", "'\\''")
    return [f"file '{quoted}'", f"duration {seconds:.6f}"]


def render_parts(
    dst: Path,
    parts: Sequence[tuple[Callable[[Path], list[str]], float]],
    sound: Callable[[Path], object] | None,
    *,
    timeout: float,
    message: str,
    workers: int,
    on_progress: ProgressCallback | None = None,
    share: float = 0.8,
) -> None:
    """Write the picture `parts` (each: the ffmpeg command writing it to a given MPEG-TS path,
    and its length in seconds) side by side with the sound (`sound` writes an MP4 to the path it
    is given), then join them into `dst` (MP4) without encoding anything. Parts too short for
    the join's MPEG-TS probe are padded (`ts_padding`). `on_progress` goes up to `share`."""
    with (
        tempfile.TemporaryDirectory(prefix=".parts-", dir=dst.parent.absolute()) as work,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        jobs: list[Future[Any]] = []
        audio: Path | None = None
        if sound is not None:
            audio = Path(work) / "audio.m4a"
            jobs.append(pool.submit(sound, audio))
        lines, files = [], []
        for i, (command, seconds) in enumerate(parts):
            part = Path(work) / f"part{i}.ts"
            jobs.append(pool.submit(run_tool, command(part), timeout=timeout, message=message))
            lines += concat_entry(part, seconds)
            files.append(part)
        for done, job in enumerate(jobs, start=1):
            job.result()
            if on_progress:
                on_progress(share * done / len(jobs))
        for part in files:
            with part.open("ab") as fh:
                fh.write(ts_padding(part.stat().st_size))
        concat_list = Path(work) / "parts.txt"
        concat_list.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with atomic_output(dst) as tmp:
            run_tool(join_command(concat_list, audio, tmp), timeout=timeout, message=message)


def audio_clip_command(
    src: Path, dst: Path, start: float, duration: float, options: ClipOptions
) -> list[str]:
    inp = ffmpeg.input(str(src), ss=f"{start:.6f}", t=f"{duration:.6f}")
    out = ffmpeg.output(
        inp["a:0"],
        str(dst),
        f="ipod",
        movflags="+faststart",
        **{"c:a": "aac", "b:a": options.audio_bitrate},
    )
    out = out.global_args(*global_flags())
    return list(out.overwrite_output().compile(cmd=ffmpeg_binary()))


def copy_sound(src: Path, dst: Path, start: float, seconds: float) -> None:
    """The lesson's AAC packets for [start, start + seconds) copied into `dst` (MP4), timed from 0.

    Each packet is a frame of 1024 samples (21 ms at 48 kHz); taking those whose start is
    nearest the clip's ends keeps the sound within half of one (11 ms) of the picture. Encoding
    60 s of sound again cost 1.3 s of CPU, more than all the rest of a clip on a 10 s GOP.
    """
    try:
        with av.open(str(src)) as container, av.open(str(dst), "w", format="ipod") as out:
            stream = container.streams.audio[0]
            time_base = stream.time_base
            assert time_base is not None  # noqa: S101 - narrows a type the code above guarantees
            target = out.add_stream_from_template(stream)
            half = (stream.codec_context.frame_size or 1024) / (stream.sample_rate or 48000) / 2
            container.seek(round(max(0.0, start - 1) / time_base), stream=stream, backward=True)
            origin = None
            for packet in container.demux(stream):
                if packet.pts is None or float(packet.pts * time_base) < start - half:
                    continue
                if float(packet.pts * time_base) >= start + seconds - half:
                    break
                origin = packet.pts if origin is None else origin
                packet.pts = packet.dts = packet.pts - origin
                packet.stream = target
                out.mux(packet)
    except av.error.FFmpegError as error:
        message = "The lesson's sound could not be read."
        raise UnreadableMediaError(message, detail=str(error)) from error


def copy_with_lead_in(
    src: Path, dst: Path, idr: float, start: float, seconds: float, *, sound: bool
) -> None:
    """Copy the picture from the IDR at `idr` and the sound from the same point to `dst` (MP4),
    timed so that `start` is 0: the muxer writes the lead-in as the edit list's media time, and
    `set_file_play_length` ends the edits at `seconds`. The sound's lead-in (at least the frame
    before `start`, which an AAC decoder needs) keeps it sample-exact from the first sample.

    Only IDRs stay marked as sync samples: a demuxer applying the edit list starts decoding at
    the last one before the start, and from an open-GOP I-frame its leading pictures would miss
    their references."""
    end = start + seconds
    try:
        with av.open(str(src)) as container:
            video = container.streams.video[0]
            streams: list[av.stream.Stream] = [video]
            if sound:
                streams.append(container.streams.audio[0])
            with av.open(str(dst), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                targets = {s.index: out.add_stream_from_template(s) for s in streams}
                base = video.time_base
                assert base is not None  # noqa: S101 - narrows a type the code above guarantees
                length_size = _nal_length_size(video.codec_context)
                container.seek(round(idr / base), stream=video, backward=True)
                copying = {video.index: False}
                if sound:
                    copying[streams[1].index] = True
                for packet in container.demux(streams):
                    if packet.pts is None or packet.dts is None or packet.time_base is None:
                        continue
                    index = packet.stream.index
                    shown = float(packet.pts * packet.time_base)
                    decoded = float(packet.dts * packet.time_base)
                    if index == video.index and not copying[index]:
                        copying[index] = abs(shown - idr) < 1e-3 and packet.is_keyframe
                    if not copying[index] or index not in targets:
                        continue
                    if (decoded if index == video.index else shown) >= end:
                        del targets[index]
                        if not targets:
                            break
                        continue
                    if index == video.index and packet.is_keyframe:
                        packet.is_keyframe = _has_idr_slice(bytes(packet), length_size)
                    origin = round(start / packet.time_base)
                    packet.pts, packet.dts = packet.pts - origin, packet.dts - origin
                    packet.stream = targets[index]
                    out.mux(packet)
    except av.error.FFmpegError as error:
        message = "The lesson's video could not be read."
        raise UnreadableMediaError(message, detail=str(error)) from error
    set_file_play_length(dst, seconds)


def _copy_sound_to(src: Path, start: float, seconds: float, dst: Path) -> None:
    copy_sound(src, dst, start, seconds)


def _encode_sound_to(
    src: Path, start: float, seconds: float, options: ClipOptions, dst: Path
) -> None:
    cmd = audio_clip_command(src, dst, start, seconds, options)
    run_tool(cmd, timeout=options.timeout, message="The clip's sound could not be cut")


def render_clip(
    lesson: Path,
    dst: Path,
    start: float,
    end: float,
    options: ClipOptions = ClipOptions(),
    *,
    probe: ProbeResult | None = None,
    on_progress: ProgressCallback | None = None,
) -> ClipResult:
    """Write the clip [start, end) of a normalised lesson to `dst` (.mp4; .m4a for sound only)."""
    lesson, dst = Path(lesson), Path(dst)
    info = probe if probe is not None else probe_media(lesson, ProbeOptions(scan_packets=False))
    validate_range(start, end, info.duration)
    end = min(end, info.duration)
    if info.video is None:
        with atomic_output(dst) as tmp:
            cmd = audio_clip_command(lesson, tmp, start, end - start, options)
            run_tool(cmd, timeout=options.timeout, message="The clip could not be cut")
        return ClipResult(dst, start, end, round(end - start, 3), 0, 0)
    packets = read_packets(lesson, start, end)
    plan = plan_clip(packets, start, end, info.video.fps)
    fd = plan.frame_duration
    duration = plan.total_frames * fd
    has_sound = info.has_audio and info.audio is not None
    sound_copies = not has_sound or (info.audio is not None and info.audio.codec == "aac")
    idr = lead_in_idr(packets, plan)
    if options.edit_list and plan.head_frames and sound_copies and idr is not None:
        with atomic_output(dst) as tmp:
            copy_with_lead_in(lesson, tmp, idr, plan.first_frame, duration, sound=has_sound)
        if on_progress:
            on_progress(1.0)
        frames = plan.total_frames
        return ClipResult(dst, start, end, round(duration, 3), frames, frames)
    eps = fd / 4
    parts: list[tuple[float, int, dict[str, Any] | None]] = []
    if plan.head_frames:
        encode = encode_args(info, options, plan.head_frames * fd)
        parts.append((plan.first_frame - eps, plan.head_frames, encode))
    if plan.copy_start is not None and plan.copy_frames:
        parts.append((plan.copy_start + eps, plan.copy_frames, None))
    if plan.tail_start is not None and plan.tail_frames:
        encode = encode_args(info, options, plan.tail_frames * fd)
        parts.append((plan.tail_start - eps, plan.tail_frames, encode))
    sound: Callable[[Path], object] | None = None
    if info.has_audio and info.audio is not None and info.audio.codec == "aac":
        sound = functools.partial(_copy_sound_to, lesson, plan.first_frame, duration)
    elif info.has_audio:
        sound = functools.partial(_encode_sound_to, lesson, plan.first_frame, duration, options)
    pieces = [
        (functools.partial(part_command, lesson, at=at, frames=frames, encode=codec), frames * fd)
        for at, frames, codec in parts
    ]
    render_parts(
        dst,
        pieces,
        sound,
        timeout=options.timeout,
        message="The clip could not be cut",
        workers=len(parts) + 1,
        on_progress=on_progress,
    )
    if on_progress:
        on_progress(1.0)
    return ClipResult(dst, start, end, round(duration, 3), plan.total_frames, plan.copy_frames)
