"""The part of a stored MP4 a clip needs, fetched by byte range instead of the whole lesson.

A 60 s clip of an hour-long lesson reads about 2 % of it: the index (moov), the first seconds
(ffmpeg's stream probe reads them) and the bytes between the keyframe before the clip's start
and the one after its end (`margin` seconds wider on each side). `fetch_window` writes those
bytes at their own offsets into a sparse local file of the lesson's full size, so every reader
(ffprobe, PyAV, ffmpeg) sees the lesson's own index and packet positions and the clip comes out
exactly as from the whole file; the holes are never read. Where the byte positions come from:
PyAV opens the object through `_RangeReader` (reads become ranged fetches) and seeks by the
MP4 index, which costs the index and a block at each seek point, not the media between.

Containers other than MP4/MOV (whose index tells PyAV where each keyframe is) are fetched whole.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av

Fetch = Callable[[int, int], Iterator[bytes]]
"""Bytes `start`..`end` inclusive of the stored object, in chunks (models.storage open_range)."""

BLOCK = 256 * 1024
"""What one small read fetches: PyAV reads the index and packets in pieces of 32 KiB."""
HEAD_SECONDS = 4.0
"""Media at the start the stream probe reads (ffmpeg reads about 20 frames)."""
SLACK = 256 * 1024
"""Bytes added on both sides of the window: readers buffer ahead, streams interleave."""


@dataclass(frozen=True)
class WindowResult:
    path: Path
    size: int
    fetched: int
    """Bytes read from storage (the whole object when `whole`)."""
    whole: bool


class _RangeReader(io.RawIOBase):
    """A read-only file over `fetch` that keeps every block it fetched, at its offset, in `out`."""

    def __init__(self, fetch: Fetch, size: int, out: io.BufferedRandom) -> None:
        self._fetch, self.size, self._out = fetch, size, out
        self._pos = 0
        self.have: set[int] = set()
        self.fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.size - self._pos)
        if n <= 0:
            return 0
        first, last = self._pos // BLOCK, (self._pos + n - 1) // BLOCK
        for block in range(first, last + 1):
            if block not in self.have:
                self.store(block * BLOCK, min(self.size, (block + 1) * BLOCK) - 1)
        self._out.seek(self._pos)
        got = self._out.readinto(memoryview(buffer)[:n])
        self._pos += got
        return got

    def store(self, start: int, end: int) -> None:
        """Fetch `start`..`end` into `out` and mark the blocks it covers whole as present."""
        self._out.seek(start)
        for chunk in self._fetch(start, end):
            self._out.write(chunk)
            self.fetched += len(chunk)
        self._out.flush()
        first = -(-start // BLOCK)
        last = (end + 1) // BLOCK if end + 1 < self.size else -(-self.size // BLOCK)
        self.have.update(range(first, last))
        if start % BLOCK == 0:
            self.have.add(start // BLOCK)


def byte_window(
    reader: _RangeReader, start: float, end: float, margin: float
) -> tuple[int, int] | None:
    """Offsets (first, last) of the media a clip of [start, end) reads, or None when the
    container has no index to seek by. Reads the index, the first HEAD_SECONDS (kept: the
    probe of every later reader wants them) and a block at each end of the window."""
    with av.open(reader, "r") as container:
        if not {"mov", "mp4"} & set(container.format.name.split(",")):
            return None
        stream: av.stream.Stream
        if container.streams.video:
            stream = container.streams.video[0]
        elif container.streams.audio:
            stream = container.streams.audio[0]
        else:
            return None
        base = stream.time_base
        assert base is not None  # noqa: S101 - narrows a type the code above guarantees
        for packet in container.demux():  # read (and so kept) through the reader's blocks
            if packet.pts is not None and float(packet.pts * packet.time_base) >= HEAD_SECONDS:
                break

        def positions(at: float, *, backward: bool) -> list[int]:
            """Byte ranges' ends of the first packets after seeking to the keyframe at `at`."""
            try:
                container.seek(round(at / base), stream=stream, backward=backward)
            except av.error.FFmpegError:
                return []
            found: list[int] = []
            for packet in container.demux():
                if packet.pos is not None and packet.pos >= 0:
                    found += [int(packet.pos), int(packet.pos) + packet.size]
                if len(found) >= 16:
                    break
            return found

        low = positions(max(0.0, start - margin), backward=True)
        high = positions(end + margin, backward=False)
    last_byte = reader.size - 1
    first = max(0, min(low, default=0) - SLACK)
    last = min(last_byte, max(high) + SLACK) if high else last_byte
    return first, last


def fetch_window(
    fetch: Fetch, size: int, dst: Path, start: float, end: float, *, margin: float = 2.0
) -> WindowResult:
    """Write to `dst` the bytes of the stored MP4 (`size` bytes) that a clip of [start, end)
    needs, at their own offsets (the rest are holes); the whole object when it is not MP4."""
    dst = Path(dst)
    with dst.open("w+b") as out:
        out.truncate(size)
        reader = _RangeReader(fetch, size, out)
        try:
            window = byte_window(reader, start, end, margin)
        except av.error.FFmpegError:
            window = None
        if window is None:
            reader.store(0, size - 1)
            return WindowResult(dst, size, reader.fetched, whole=True)
        first, last = window
        reader.store(first, last)
    return WindowResult(dst, size, reader.fetched, whole=False)
