"""Running ffmpeg and ffprobe: found once, called with argument lists, progress parsed, stderr kept.

Commands are built elsewhere (pure functions, usually with ffmpeg-python's `.compile()`); this
module only runs them. It never builds a shell string, always enforces a time limit, and on
failure raises a `PipelineError` carrying the tail of ffmpeg's stderr so logs show what went wrong.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import functools
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.errors import FfmpegError, NoSpaceError, PipelineError, StageTimeoutError

ProgressCallback = Callable[[float], None]
"""Called with the fraction done, 0.0 to 1.0."""

STDERR_TAIL_LINES = 40

NO_SPACE_TEXT = os.strerror(errno.ENOSPC)
"""ffmpeg prints the C library's words for ENOSPC ("No space left on device")."""


@functools.cache
def ffmpeg_binary() -> str:
    """Path of ffmpeg: the one on PATH, else the one `imageio-ffmpeg` ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # optional: only when no system ffmpeg exists
    except ImportError:
        raise PipelineError(
            "ffmpeg is not installed: run scripts/bootstrap.sh or `apt-get install ffmpeg`"
        ) from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def global_flags(level: str = "error") -> list[str]:
    """The flags every ffmpeg run takes: no banner, never read stdin, log only `level` and worse.

    Without `-nostdin` ffmpeg run from a worker waits on a terminal it does not have; the level
    is "info" only where a stage reads filter output such as `showinfo`.
    """
    return ["-hide_banner", "-nostdin", "-v", level]


def ffmpeg_command(*args: str, level: str = "error") -> list[str]:
    """An ffmpeg argument list: the binary, the global flags, then `args`."""
    return [ffmpeg_binary(), *global_flags(level), *args]


@functools.cache
def ffprobe_binary() -> str:
    """Path of ffprobe, which ships with the system ffmpeg."""
    found = shutil.which("ffprobe")
    if not found:
        raise PipelineError(
            "ffprobe is not installed: run scripts/bootstrap.sh or `apt-get install ffmpeg`"
        )
    return found


def _tail(lines: collections.deque[str]) -> str:
    return "\n".join(lines)


def _finish(proc: subprocess.Popen[bytes], readers: list[threading.Thread], wait: float) -> None:
    for reader in readers:
        reader.join(timeout=wait)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def run_tool(
    args: list[str],
    *,
    timeout: float,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    error: type[PipelineError] = FfmpegError,
    message: str = "ffmpeg could not process this recording",
    on_line: Callable[[str], None] | None = None,
) -> bytes:
    """Run ffmpeg/ffprobe with `args` (args[0] is the binary) and return its stdout.

    When `duration` and `on_progress` are given, `-progress pipe:2`-style `out_time_us=` lines in
    stderr are turned into fractions of `duration`. Raises `error(message)` with the stderr tail on
    a non-zero exit and `StageTimeoutError` after `timeout` seconds (the process is killed).
    `on_line` sees every other stderr line, for stages that read filter output such as `showinfo`.
    A write that failed for want of space raises `NoSpaceError`, even when ffmpeg exits 0 after it
    (ffmpeg 5.1 does when the trailer cannot be written): the output is broken either way.
    """
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def read_stderr() -> None:
        assert proc.stderr is not None  # noqa: S101 - narrows a type the code above guarantees
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line.startswith("out_time_us=") and duration and on_progress:
                with contextlib.suppress(ValueError):
                    seconds = int(line.split("=", 1)[1]) / 1_000_000
                    on_progress(min(1.0, max(0.0, seconds / duration)))
                continue
            if on_line is not None:
                on_line(line)
            if "=" in line and " " not in line:  # other -progress keys: not worth keeping
                continue
            tail.append(line)

    # Each pipe has exactly one reader thread; communicate() would race the stderr reader for the
    # same pipe and can deadlock once stdout fills its buffer.
    chunks: list[bytes] = []

    def read_stdout() -> None:
        stream = proc.stdout
        assert stream is not None  # noqa: S101 - narrows a type the code above guarantees
        while chunk := stream.read(1 << 16):
            chunks.append(chunk)

    readers = [
        threading.Thread(target=read_stderr, daemon=True),
        threading.Thread(target=read_stdout, daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        _finish(proc, readers, 5)
        raise StageTimeoutError(
            f"{Path(args[0]).name} took longer than {timeout:.0f} s and was stopped",
            detail=_tail(tail),
        ) from None
    _finish(proc, readers, timeout)
    stdout = b"".join(chunks)
    if any(NO_SPACE_TEXT in line for line in tail):
        raise NoSpaceError(NO_SPACE_MESSAGE, detail=_tail(tail))
    if proc.returncode != 0:
        raise error(message, detail=_tail(tail))
    return stdout


NO_SPACE_MESSAGE = "The disk filled up while this recording was being processed"


def no_space(exc: OSError) -> bool:
    return exc.errno == errno.ENOSPC


@contextlib.contextmanager
def atomic_output(dst: Path) -> Iterator[Path]:
    """Yield a temporary path beside `dst`; rename it onto `dst` only if the block succeeds.

    Readers never see a half-written file, and a failed stage leaves nothing behind. The temporary
    name keeps `dst`'s suffix so tools that pick a format by extension still work.

    A full disk raises `NoSpaceError`: an ENOSPC write, and a tool failure while the disk is full
    (checked before the partial file is removed), because ffmpeg 5.1 sometimes exits 0 after a
    failed write and the stage's check of its output then sees only a broken file: the operator
    needs "no space", not "bad recording".
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.stem}.", suffix=dst.suffix, dir=dst.parent)
    except OSError as exc:
        if no_space(exc):
            raise NoSpaceError(NO_SPACE_MESSAGE, detail=str(exc)) from exc
        raise
    os.fchmod(fd, 0o666 & ~process_umask())  # mkstemp's 0600 would surprise `clipcoach process`
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, dst)
    except NoSpaceError:
        tmp.unlink(missing_ok=True)
        raise
    except PipelineError as exc:
        full = disk_full(dst.parent)
        tmp.unlink(missing_ok=True)
        if full:
            raise NoSpaceError(NO_SPACE_MESSAGE, detail=exc.detail) from exc
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if no_space(exc):
            raise NoSpaceError(NO_SPACE_MESSAGE, detail=str(exc)) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def process_umask() -> int:
    """The process's umask, read without changing it (os.umask would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


FULL_DISK_BYTES = 256 * 1024
"""Free space below which a failed write is blamed on the disk (a few of ffmpeg's buffers)."""


def disk_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < FULL_DISK_BYTES
    except OSError:
        return False
