"""Setting how long an MP4 plays, in its edit lists, without touching a sample.

A clip copied from the IDR before its start carries frames on both sides of its range: before
the start (the lead-in the decoder needs) and, with B-frames, a reference picture or two shown
after the end but decoded before it. The muxer's edit list already hides the lead-in (its media
time); its length covers every copied frame, so the extra pictures at the end would show.
`set_play_length` shortens each track's edit, and the track and movie durations with it, to the
clip's length: demuxers that honour edit lists (libavformat, so ffmpeg and Chromium) then stop
exactly at the end. The boxes keep their sizes, so the file is patched in place.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

CONTAINERS = {b"moov", b"trak", b"edts"}


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, offset of the payload, offset of the box's end) of the boxes in data[start:end]."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise ValueError(f"MP4 box {kind!r} at {at} runs past its parent")
        yield kind, at + header, at + size
        at += size


def _put(data: bytearray, at: int, version: int, value: int) -> None:
    struct.pack_into(">Q" if version == 1 else ">I", data, at, value)


def set_play_length(data: bytearray, seconds: float) -> int:
    """Shorten the edit of every track of the MP4 `data` (whole file or from its moov on) to
    `seconds`, never lengthen one; returns how many edits changed. Tracks without an edit list
    are left as they are (they play from their first sample; nothing to trim there)."""
    moov = next(((p, e) for kind, p, e in _boxes(data, 0, len(data)) if kind == b"moov"), None)
    if moov is None:
        raise ValueError("no moov box: not an MP4 or cut short")
    scale = None
    longest = 0
    changed = 0
    mvhd_at = None
    for kind, payload, end in _boxes(data, *moov):
        if kind == b"mvhd":
            version = data[payload]
            scale = struct.unpack_from(">I", data, payload + (20 if version == 1 else 12))[0]
            mvhd_at = (payload + (24 if version == 1 else 16), version)
        if kind != b"trak" or not scale:
            continue
        length = round(seconds * scale)
        tkhd_at = None
        edited = False
        for inner, p, e in _boxes(data, payload, end):
            if inner == b"tkhd":
                tkhd_at = (p + (28 if data[p] == 1 else 20), data[p])
            if inner != b"edts":
                continue
            for leaf, lp, _ in _boxes(data, p, e):
                if leaf != b"elst":
                    continue
                edited = True
                version, count = data[lp], struct.unpack_from(">I", data, lp + 4)[0]
                entry = 20 if version == 1 else 12
                spent = 0
                for i in range(count):
                    at = lp + 8 + i * entry
                    fmt = ">Qq" if version == 1 else ">Ii"
                    duration, media_time = struct.unpack_from(fmt, data, at)
                    left = max(0, length - spent)
                    if media_time >= 0 and duration > left:
                        _put(data, at, version, left)
                        duration = left
                        changed += 1
                    spent += duration
                if tkhd_at is not None:
                    _put(data, tkhd_at[0], tkhd_at[1], spent)
                longest = max(longest, spent)
        if not edited and tkhd_at is not None:
            fmt = ">Q" if tkhd_at[1] == 1 else ">I"
            longest = max(longest, struct.unpack_from(fmt, data, tkhd_at[0])[0])
    if mvhd_at is not None and changed:
        _put(data, mvhd_at[0], mvhd_at[1], longest)
    return changed


def set_file_play_length(path: Path, seconds: float) -> int:
    """`set_play_length` on the MP4 at `path`, reading and rewriting only its index (moov)."""
    with Path(path).open("r+b") as fh:
        at = 0
        while header := fh.read(16):
            size, kind = struct.unpack_from(">I4s", header)
            if size == 1:
                size = struct.unpack_from(">Q", header, 8)[0]
            if size < 8:
                break
            if kind == b"moov":
                fh.seek(at)
                moov = bytearray(fh.read(size))
                changed = set_play_length(moov, seconds)
                if changed:
                    fh.seek(at)
                    fh.write(moov)
                return changed
            at += size
            fh.seek(at)
    raise ValueError(f"no moov box in {path}")
