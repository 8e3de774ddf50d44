"""Recordings are recognised by their first bytes; other files are named for what they are."""

from __future__ import annotations

import pytest

from models.mediatype import NotARecordingError, sniff


@pytest.mark.parametrize(
    ("head", "extension"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", ".mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", ".mp4"),
        (b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00", ".mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", ".mkv"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", ".avi"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", ".wav"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", ".mp3"),
        (b"\xff\xfb\x90\x64\x00", ".mp3"),
        (b"\xff\xf1\x50\x80\x02", ".aac"),
        (b"fLaC\x00\x00\x00\x22", ".flac"),
        (b"OggS\x00\x02\x00\x00", ".ogg"),
        (b"\x00\x00\x01\xba\x44\x00", ".mpg"),
        (b"\x47" + b"\x00" * 187 + b"\x47" + b"\x00" * 10, ".ts"),
    ],
)
def test_recordings(head: bytes, extension: str) -> None:
    assert sniff(head).extension == extension


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (b"", "empty"),
        (b"%PDF-1.4\n", "PDF"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIF"),
        (b"PK\x03\x04\x14\x00", "ZIP"),
        ("Lesson plan: équivalent fractions\n".encode(), "text"),
        (bytes(range(1, 30)) * 3, "not a recording in a format we recognise"),
    ],
)
def test_not_recordings(head: bytes, words: str) -> None:
    with pytest.raises(NotARecordingError, match=words):
        sniff(head)
