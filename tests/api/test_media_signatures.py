"""One media sniffer: every entry point takes or refuses the same first bytes.

The API's uploads (whole and chunked), `clipcoach batch` finding a recording with no suffix,
and the probe stage's check before ffprobe (as the workers build its options) all ask
`models.mediatype`; this table goes through each of them, so a second copy of the signatures
that disagrees fails here.
"""

from __future__ import annotations

from pathlib import Path

from models.mediatype import SNIFF_BYTES, NotARecordingError, sniff
from models.queue import InProcessQueue
from pipeline.errors import NotMediaError, PipelineError
from pipeline.lesson import SOURCE_STEM, run_stage
from tests.api.conftest import World
from workers.batch.discovery import is_recording
from workers.options import lesson_options


def padded(head: bytes) -> bytes:
    return head + b"\0" * (2 * SNIFF_BYTES)


ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")

SIGNATURES: list[tuple[str, bytes, bool]] = [
    ("mp4", padded(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"), True),
    ("mov", padded(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"), True),
    ("old quicktime", padded(b"\x00\x00\x00\x08wide\x00\x00\x00\x00mdat"), True),
    ("m4a", padded(b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00"), True),
    ("matroska/webm", padded(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"), True),
    ("avi", padded(b"RIFF\x24\x00\x00\x00AVI LIST"), True),
    ("wav", padded(b"RIFF\x24\x00\x00\x00WAVEfmt "), True),
    ("aiff", padded(b"FORM\x00\x00\x10\x00AIFFCOMM"), True),
    ("aifc", padded(b"FORM\x00\x00\x10\x00AIFCFVER"), True),
    ("caf", padded(b"caff\x00\x01\x00\x00desc"), True),
    ("mp3 with tags", padded(b"ID3\x04\x00\x00\x00\x00\x00\x00"), True),
    ("mp3 frame", padded(b"\xff\xfb\x90\x64\x00"), True),
    ("aac adts", padded(b"\xff\xf1\x50\x80\x02"), True),
    ("flac", padded(b"fLaC\x00\x00\x00\x22"), True),
    ("ogg", padded(b"OggS\x00\x02\x00\x00"), True),
    ("mpeg program stream", padded(b"\x00\x00\x01\xba\x44\x00"), True),
    ("mpeg transport stream", padded(b"\x47" + b"\x00" * 187 + b"\x47"), True),
    ("asf/wmv", padded(ASF_GUID), True),
    ("flv", padded(b"FLV\x01\x05\x00\x00\x00\x09"), True),
    ("amr", padded(b"#!AMR\n"), True),
    ("mxf", padded(bytes.fromhex("060e2b34020501010d01020101020400")), True),
    ("dv", padded(b"\x1f\x07\x00\x3f\x78\x78\x78\x78"), True),
    ("mpeg video stream", padded(b"\x00\x00\x01\xb3\x14\x00\xf0\x13"), True),
    ("h264 stream", padded(b"\x00\x00\x00\x01\x67\x64\x00\x1f"), True),
    ("hevc stream", padded(b"\x00\x00\x00\x01\x40\x01\x0c\x01"), True),
    ("ac3", padded(b"\x0b\x77\x4e\x1a\x24\x40"), True),
    ("y4m (raw pictures, no recording)", b"YUV4MPEG2 W64 H36 F25:1\nFRAME\n" + bytes(3456), False),
    ("riff avix (an extension chunk, never a file's start)", padded(b"RIFF\0\0\0\0AVIX"), False),
    ("pdf", b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n", False),
    ("png", padded(b"\x89PNG\r\n\x1a\n"), False),
    ("jpeg", padded(b"\xff\xd8\xff\xe0\x00\x10JFIF"), False),
    ("gif", padded(b"GIF89a\x01\x00"), False),
    ("bmp", padded(b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00"), False),
    ("webp", padded(b"RIFF\x24\x00\x00\x00WEBPVP8 "), False),
    ("heif", padded(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), False),
    ("zip/office", padded(b"PK\x03\x04\x14\x00"), False),
    ("old office", padded(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), False),
    ("web page", b"<!doctype html><title>Lesson plan</title>\n", False),
    ("text", "Lesson plan: équivalent fractions\nStarter: ratios.\n".encode(), False),
    ("noise", bytes(range(1, 30)) * 40, False),
]
EXPECTED = {name: taken for name, _, taken in SIGNATURES}


def test_the_sniffer_itself_agrees_with_the_table() -> None:
    def takes(data: bytes) -> bool:
        try:
            sniff(data[:SNIFF_BYTES])
        except NotARecordingError:
            return False
        return True

    assert {name: takes(data) for name, data, _ in SIGNATURES} == EXPECTED


def test_the_api_upload_takes_the_same_files(
    world: World, tmp_path: Path, inline_queue: InProcessQueue
) -> None:
    verdicts = {}
    for name, data, _ in SIGNATURES:
        path = tmp_path / "lesson.mp4"  # a video's name on every file: the bytes decide
        path.write_bytes(data)
        with path.open("rb") as handle:
            r = world.client.post(
                "/api/v1/lessons",
                headers=world.auth("ect_a"),
                files={"file": ("lesson.mp4", handle, "video/mp4")},
            )
        assert r.status_code in (201, 202, 415), (name, r.text)
        verdicts[name] = r.status_code != 415
    assert verdicts == EXPECTED


def test_the_chunked_upload_takes_the_same_files(world: World) -> None:
    verdicts = {}
    for name, data, _ in SIGNATURES:
        r = world.client.post(
            "/api/v1/uploads",
            headers=world.auth("ect_a"),
            json={"filename": "lesson.mp4", "size": len(data)},
        )
        assert r.status_code == 201, r.text
        url = f"/api/v1/uploads/{r.json()['id']}"
        r = world.client.patch(
            url,
            headers={**world.auth("ect_a"), "Upload-Offset": "0"},
            content=data,  # the whole file in one chunk: checked as soon as its head is in
        )
        assert r.status_code in (200, 415), (name, r.text)
        verdicts[name] = r.status_code == 200
        if verdicts[name]:  # a refused upload is dropped; a taken one would count to the quota
            assert world.client.delete(url, headers=world.auth("ect_a")).status_code == 204
    assert verdicts == EXPECTED


def test_batch_discovery_takes_the_same_files(tmp_path: Path) -> None:
    verdicts = {}
    for name, data, _ in SIGNATURES:
        path = tmp_path / "CAMERA01"  # no suffix: discovery has only the bytes to go by
        path.write_bytes(data)
        verdicts[name] = is_recording(path)
    assert verdicts == EXPECTED


def test_the_probe_stage_checks_the_same_bytes_before_ffprobe(world: World, tmp_path: Path) -> None:
    options = lesson_options(world.settings)  # the options the workers run the stage with
    verdicts: dict[str, bool] = {}
    for name, data, _ in SIGNATURES:
        workdir = tmp_path / f"case{len(verdicts)}"
        workdir.mkdir()
        (workdir / f"{SOURCE_STEM}.mp4").write_bytes(data)
        try:
            run_stage("probe", workdir, options)
            verdicts[name] = True
        except NotMediaError as exc:
            verdicts[name] = exc.detail != ""  # ffprobe's own verdict carries its stderr
        except PipelineError:
            verdicts[name] = True  # past the check, refused by ffprobe for another reason
    assert verdicts == EXPECTED
