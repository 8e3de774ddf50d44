"""What a recording is, judged by its first bytes (magic numbers), never by its file name.

The one list of signatures: the API's uploads, `clipcoach batch` finding recordings in a folder
and the probe stage's check before ffprobe (which receives `sniff` from the workers, as pipeline/
imports nothing of ours) all ask `sniff`, so a file is taken or refused the same everywhere.

`sniff(head)` returns the kind of media the bytes start like, or raises NotARecordingError whose
message names what the bytes look like instead (a PDF, a picture, text), so a teacher who picked
the wrong file is told which file they picked. The extension it returns is what the stored
source gets, whatever the uploaded name said.
"""

from __future__ import annotations

from dataclasses import dataclass

SNIFF_BYTES = 512
"""Enough of the head for every signature below (a transport stream needs two 188-byte packets)."""


@dataclass(frozen=True)
class MediaType:
    extension: str
    content_type: str
    label: str


class NotARecordingError(ValueError):
    """The bytes are not a recording we can take; the message says what they look like."""


MP4 = MediaType(".mp4", "video/mp4", "MP4/MOV video or M4A audio")
MATROSKA = MediaType(".mkv", "video/x-matroska", "Matroska/WebM")
AVI = MediaType(".avi", "video/x-msvideo", "AVI video")
WAVE = MediaType(".wav", "audio/wav", "WAV audio")
MP3 = MediaType(".mp3", "audio/mpeg", "MP3 audio")
FLAC = MediaType(".flac", "audio/flac", "FLAC audio")
OGG = MediaType(".ogg", "audio/ogg", "Ogg audio or video")
MPEG_TS = MediaType(".ts", "video/mp2t", "MPEG transport stream")
MPEG_PS = MediaType(".mpg", "video/mpeg", "MPEG video")
ASF = MediaType(".wmv", "video/x-ms-asf", "Windows Media")
FLV = MediaType(".flv", "video/x-flv", "Flash video")
AAC = MediaType(".aac", "audio/aac", "AAC audio")
AMR = MediaType(".amr", "audio/amr", "AMR audio")
AIFF = MediaType(".aiff", "audio/aiff", "AIFF audio")
CAF = MediaType(".caf", "audio/x-caf", "Core Audio (CAF) audio")
MXF = MediaType(".mxf", "application/mxf", "MXF video")
DV = MediaType(".dv", "video/x-dv", "DV video")
MPEG_VIDEO = MediaType(".m2v", "video/mpeg", "MPEG-1/2 video stream")
H264 = MediaType(".h264", "video/h264", "H.264 video stream")
HEVC = MediaType(".hevc", "video/h265", "HEVC video stream")
AC3 = MediaType(".ac3", "audio/ac3", "AC-3 audio")

_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot")
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_MXF_KEY = bytes.fromhex("060e2b34020501010d010201")  # the header partition pack's key
_ANNEX_B = b"\x00\x00\x00\x01"  # a raw H.264/HEVC stream's first start code

_NOT_MEDIA = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office document"),
    (b"{\\rtf", "a rich-text document"),
    (b"<", "a web page or XML file"),
)


def sniff(head: bytes) -> MediaType:
    """The media type `head` (the file's first bytes) announces; NotARecordingError otherwise."""
    if not head:
        raise NotARecordingError("The file is empty.")
    if len(head) >= 12 and head[4:8] in _MP4_BOXES:
        if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"avif"):
            raise NotARecordingError("The file is a HEIF/AVIF picture, not a recording.")
        return MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MATROSKA
    if head.startswith(b"RIFF") and len(head) >= 12:
        if head[8:12] == b"AVI ":
            return AVI
        if head[8:12] == b"WAVE":
            return WAVE
        if head[8:12] == b"WEBP":
            raise NotARecordingError("The file is a WebP picture, not a recording.")
    if head.startswith(b"ID3"):
        return MP3
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"\x00\x00\x01\xba"):
        return MPEG_PS
    if head.startswith(_ASF_GUID):
        return ASF
    if head.startswith(b"FLV"):
        return FLV
    if head.startswith(b"#!AMR"):
        return AMR
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head.startswith(b"caff"):
        return CAF
    if head.startswith(_MXF_KEY):
        return MXF
    if head.startswith(b"\x1f\x07\x00"):  # DIF header block of the first sequence
        return DV
    if head.startswith(b"\x00\x00\x01\xb3"):  # sequence header
        return MPEG_VIDEO
    if len(head) >= 6 and head.startswith(_ANNEX_B):
        if head[4] & 0x1F in (7, 9):  # sequence parameter set or access unit delimiter
            return H264
        if head[4] in (0x40, 0x46) and head[5] == 0x01:  # VPS or AUD
            return HEVC
    if head.startswith(b"\x0b\x77"):  # AC-3 sync frame
        return AC3
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:
        return MPEG_TS
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return AAC  # ADTS: sync word, layer 0
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return MP3  # MPEG audio frame sync without an ID3 tag
    if head.startswith(b"BM") and head[6:10] == b"\0\0\0\0":  # the reserved words are zero
        raise NotARecordingError("The file is a BMP picture, not a recording.")
    for magic, what in _NOT_MEDIA:
        if head.startswith(magic):
            raise NotARecordingError(f"The file is {what}, not a recording.")
    if _looks_like_text(head):
        raise NotARecordingError("The file is a text file, not a recording.")
    raise NotARecordingError(
        "The file is not a recording in a format we recognise "
        "(MP4, MOV, M4A, WebM, MKV, AVI, WAV, AIFF, CAF, MP3, FLAC, OGG)."
    )


def sniff_extension(head: bytes) -> str:
    """The extension `head` announces (".mp4"): what the probe stage is given, as a plain value."""
    return sniff(head).extension


def _looks_like_text(head: bytes) -> bool:
    for cut in range(4):  # the head may end part-way through a multi-byte character
        try:
            decoded = head[: len(head) - cut].decode("utf-8")
            break
        except UnicodeDecodeError:
            continue
    else:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in decoded)
