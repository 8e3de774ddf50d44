"""atomic_output: a failed stage leaves nothing behind, and a full disk is named as the reason."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from pipeline import tools
from pipeline.errors import FfmpegError, NoSpaceError, PipelineError


def test_success_renames_onto_the_destination(tmp_path: Path) -> None:
    dst = tmp_path / "out" / "lesson.mp4"
    with tools.atomic_output(dst) as tmp:
        assert tmp.suffix == ".mp4" and tmp.parent == dst.parent
        tmp.write_bytes(b"whole")
    assert dst.read_bytes() == b"whole"
    assert list(dst.parent.iterdir()) == [dst]


def write_half_then_fail(dst: Path) -> None:
    with tools.atomic_output(dst) as tmp:
        tmp.write_bytes(b"half")
        raise FfmpegError("no playable media came out")


def test_a_tool_failure_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(FfmpegError):
        write_half_then_fail(tmp_path / "lesson.mp4")
    assert list(tmp_path.iterdir()) == []


def test_a_tool_failure_on_a_full_disk_is_reported_as_no_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def full(folder: Path) -> bool:
        seen.append(any(folder.iterdir()))  # asked while the partial file still takes space
        return True

    monkeypatch.setattr(tools, "disk_full", full)
    with pytest.raises(NoSpaceError) as caught:
        write_half_then_fail(tmp_path / "lesson.mp4")
    assert caught.value.code == "no_space"
    assert isinstance(caught.value.__cause__, FfmpegError)
    assert seen == [True]
    assert list(tmp_path.iterdir()) == []


def test_disk_full_reads_the_free_space(tmp_path: Path) -> None:
    assert tools.disk_full(tmp_path) is False  # the test machine has room
    assert tools.disk_full(tmp_path / "missing") is False


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_outputs_get_the_users_usual_permissions(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        assert tools.process_umask() == umask
        with tools.atomic_output(tmp_path / "transcript.vtt") as tmp:
            tmp.write_text("WEBVTT\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "transcript.vtt").stat().st_mode) == mode


def test_ffmpeg_failing_to_write_for_want_of_space_is_no_space() -> None:
    # /dev/full answers every write with ENOSPC; ffmpeg 5.1 then exits 0 having written nothing
    # whole, so the words on stderr are what tells.
    args = tools.ffmpeg_command("-f", "lavfi", "-i", "sine=duration=1", "-f", "wav", "-y")
    with pytest.raises(NoSpaceError) as caught:
        tools.run_tool([*args, "/dev/full"], timeout=30)
    assert "No space left" in caught.value.detail
    assert isinstance(caught.value, PipelineError)


def write_into_a_full_disk(dst: Path) -> None:
    with tools.atomic_output(dst) as tmp:
        tmp.write_bytes(b"{}")
        with open("/dev/full", "wb") as full:  # a real ENOSPC from the kernel
            full.write(b"x" * 65536)


def test_an_enospc_write_inside_a_stage_output_is_no_space(tmp_path: Path) -> None:
    with pytest.raises(NoSpaceError) as caught:
        write_into_a_full_disk(tmp_path / "a.json")
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__cause__.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def read_a_missing_file(dst: Path) -> None:
    with tools.atomic_output(dst):
        (dst.parent / "missing" / "x").read_bytes()


def test_other_os_errors_stay_what_they_are(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_a_missing_file(tmp_path / "a.json")
    assert list(tmp_path.iterdir()) == []
