"""Request and response bodies: a schema family per entity (XCreate, XUpdate, XPublic)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

from models.account import Role
from models.accounts import EMAIL_PATTERN
from models.action_steps import MAX_INSTRUCTION, StepStatus
from models.blanks import BlankStatus
from models.coaching import CommentKind, RenderStatus
from models.consent import LABELS as CONSENT_LABELS
from models.consent import RESEARCH_LABELS, Consent
from models.framework import StrandKind
from models.lesson import LessonStatus, StageStatus
from models.notifications import Kind as NotificationKind
from models.text import strip_bidi


def _in_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


AwareDateTime = Annotated[
    pydantic.AwareDatetime,
    AfterValidator(_in_utc),
    Field(description="RFC 3339 with its offset (`Z` or `+05:00`); a time without one is 422."),
]
"""Every time the API accepts: its offset is required, and it is converted to UTC at once, so
nothing downstream compares wall-clock digits from different zones."""


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


UTCDateTime = Annotated[datetime, AfterValidator(_as_utc)]
"""Every time the API answers, in UTC with its zone (RFC 3339); stored times already are
(models.db.UTCDateTime), a computed naive one is taken as UTC."""

DisplayText = Annotated[str, AfterValidator(strip_bidi)]
"""Names, titles, file names, notes and comments, in and out: no bidirectional controls
(models.text)."""

ID = Field(min_length=1, max_length=64, examples=["3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b"])


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# accounts


class TokenOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIs...",
                    "token_type": "bearer",
                    "expires_at": "2026-11-24T18:00:00Z",
                }
            ]
        }
    )
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: UTCDateTime


class UserBrief(Public):
    id: str
    name: DisplayText
    email: str
    role: Role


class UserPublic(UserBrief):
    active: bool
    created_at: UTCDateTime
    induction_start: date | None = Field(
        None, description="An ECT's first day of induction (sets the observation rhythm)."
    )
    may_share_model_practice: bool = Field(
        False,
        description="A teacher who is not a mentor may mark their own clips as model practice "
        "(mentors always may, ECTs never).",
    )


class SchoolPolicyPublic(BaseModel):
    """The school's data settings as this deployment runs them (docs/privacy.md): what the admin
    page shows a data protection officer. Set in the deployment's settings, not here."""

    consent_default: Consent = Field(
        description="A new lesson's consent unless its uploader picks."
    )
    consent_default_label: str
    research_use_default: bool
    retention_days: int = Field(description="Lessons deleted this many days after upload; 0: kept.")
    retention_warning_days: int = Field(description="Owners are warned this many days ahead.")
    retention_owner_extend_days: int = Field(
        description="How far past the date an owner may keep their lesson."
    )
    retention_max_days: int = Field(description="The longest an admin may keep a lesson.")
    retention_transcript_days: int = Field(
        description="Transcripts deleted this many days after upload; 0: kept with the lesson."
    )
    retention_share_days: int = Field(
        description="Shares deleted this many days after they were made; 0: kept until they end."
    )
    email_notifications: bool = Field(description="Whether the email digest is on.")


class UserErased(BaseModel):
    """What an erasure removed and kept (docs/privacy.md, "A person's data")."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"lessons": 3, "clips": 2, "comments_kept": 5, "action_steps": 1}]
        }
    )
    lessons: int = Field(description="Their lessons, deleted with everything made from them.")
    clips: int = Field(description="Clips they made of others' lessons, deleted.")
    comments_kept: int = Field(
        description="Their comments on others' clips and lessons, kept as a former colleague's."
    )
    action_steps: int = Field(description="Action steps set for them, deleted.")


class MePublic(UserPublic):
    paired_with: list[UserBrief] = Field(
        default_factory=list, description="A mentor's ECTs, or an ECT's mentors."
    )


class UserCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "j.khan@school.example", "name": "J Khan", "role": "ect"}]
        }
    )
    email: str = Field(max_length=320, pattern=EMAIL_PATTERN)
    name: DisplayText = Field(min_length=1, max_length=200)
    role: Role
    password: str | None = Field(
        None, min_length=10, max_length=200, description="Generated when left out."
    )


class UserCreated(UserPublic):
    password: str | None = Field(
        None, description="The generated password, shown once; null when one was given."
    )


class UserUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    name: DisplayText | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=200)
    induction_start: date | None = Field(
        None, description="An ECT's first day of induction; null clears it."
    )
    may_share_model_practice: bool | None = Field(
        None, description="Let a coach or teaching admin mark their own clips as model practice."
    )


class PairingCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"mentor_id": "a" * 32, "ect_id": "b" * 32}]}
    )
    mentor_id: str = ID
    ect_id: str = ID


class PairingPublic(BaseModel):
    id: str
    mentor: UserBrief
    ect: UserBrief
    created_at: UTCDateTime


# uploads and lessons


class UploadCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "filename": "Year 8 ratio lesson.mp4",
                    "size": 734003200,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                }
            ]
        }
    )
    filename: DisplayText = Field(
        min_length=1, max_length=1024, description="Kept as display text only, never as a path."
    )
    size: int = Field(gt=0, description="The whole file's size in bytes.")
    sha256: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$", description="Checked when the last byte arrives."
    )


class UploadPublic(Public):
    id: str
    filename: DisplayText
    size: int
    offset: int = Field(description="Bytes received so far: send the next chunk from here.")
    complete: bool
    sha256: str | None
    created_at: UTCDateTime


class LessonCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"upload_id": "3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b", "title": "Y8 ratio"}]
        }
    )
    upload_id: str = ID
    title: DisplayText = Field("", max_length=300)
    transcribe: bool = True
    consent: Consent | None = Field(
        None, description="The pupils' consent state; the school's default when left out."
    )
    research_use: bool | None = Field(
        None,
        description="Whether the consent covers research exports; the school's default "
        "(`research_use_default`) when left out.",
    )


class ConsentShown(BaseModel):
    """The consent state of a lesson, shown with everything made from it (models/consent.py)."""

    consent: Consent

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented use on a property
    @property
    def consent_label(self) -> str:
        return CONSENT_LABELS[self.consent]


class StagePublic(Public):
    name: DisplayText
    status: StageStatus
    progress: float


class LessonParts(BaseModel):
    """What of a lesson can be used already. The transcript, suggested clips and pictures are
    made from the recording itself, so when the video has to be converted (HEVC phone video,
    odd codecs) they are ready well before the browser copy is; the lesson's status turns
    `ready` only when that copy is stored."""

    transcript: bool
    segments: bool
    thumbnails: bool = Field(description="The poster, the sprite and the thumbnails track.")
    video: bool = Field(description="The browser-playable recording is stored.")
    video_progress: float = Field(description="How far the browser copy is made, 0 to 1.")


def lesson_parts(stages: list[StagePublic]) -> LessonParts:
    rows = {stage.name: stage for stage in stages}

    def done(name: str) -> bool:
        row = rows.get(name)
        return row is not None and row.status == StageStatus.done

    normalise = rows.get("normalise")
    return LessonParts(
        transcript=done("transcribe"),
        segments=done("segment"),
        thumbnails=done("thumbnails"),
        video=done("normalise"),
        video_progress=1.0 if done("normalise") else (normalise.progress if normalise else 0.0),
    )


class LessonPublic(ConsentShown, Public):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b",
                    "title": "Y8 ratio",
                    "source_filename": "Year 8 ratio lesson.mp4",
                    "owner_id": "b" * 32,
                    "status": "processing",
                    "stage": "transcribe",
                    "progress": 42,
                    "error_code": None,
                    "error_message": None,
                    "warnings": [],
                    "duration": 3120.5,
                    "has_video": True,
                    "has_audio": True,
                    "transcribe": True,
                    "created_at": "2026-11-24T09:00:00Z",
                    "ready_at": None,
                    "stages": [{"name": "probe", "status": "done", "progress": 1.0}],
                }
            ]
        },
    )
    id: str
    title: DisplayText
    source_filename: DisplayText
    owner_id: str | None
    status: LessonStatus
    stage: str | None
    progress: int
    error_code: str | None
    error_message: str | None
    warnings: list[str]
    duration: float | None
    has_video: bool | None
    has_audio: bool | None
    transcribe: bool
    created_at: UTCDateTime
    ready_at: UTCDateTime | None
    stages: list[StagePublic] = Field(default_factory=list)
    owner: UserBrief | None = Field(None, description="Who taught it (in the lesson list).")
    clip_count: int = Field(0, description="Clips of it that you may see (in the lesson list).")
    comment_count: int = Field(0, description="Comments on those clips (in the lesson list).")
    keep_until: UTCDateTime | None = Field(
        None, description="Kept past the school's retention date until then (owner or admin)."
    )
    deletes_on: UTCDateTime | None = Field(
        None,
        description="When the school's retention period deletes this lesson and everything "
        "made from it; null while the school keeps lessons (docs/privacy.md).",
    )
    deletion_soon: bool = Field(
        False, description="`deletes_on` is within the warning period: its owner is told."
    )
    transcript_keep_until: UTCDateTime | None = Field(
        None, description="Transcripts kept past the school's transcript date until then (admin)."
    )
    transcript_deletes_on: UTCDateTime | None = Field(
        None,
        description="When the school's transcript period deletes this lesson's transcripts "
        "(and the search index, captions, talk analytics and candidate clips made from them), "
        "the recording and coaching kept; null while they are kept with the lesson.",
    )
    transcripts_deleted_at: UTCDateTime | None = Field(
        None, description="When retention deleted this lesson's transcripts, if it has."
    )
    research_use: bool = Field(
        False,
        description="Whether the pupils' consent covers research use: only then is the lesson "
        "in research exports (ELAN, TextGrid, CSV).",
    )

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def parts(self) -> LessonParts:
        return lesson_parts(self.stages)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def research_use_label(self) -> str:
        return RESEARCH_LABELS[self.research_use]


class BlankCreate(BaseModel):
    """A moment to blank, in lesson seconds: black picture and silence in every clip over it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"start": 61.5, "end": 64.0}]})
    start: float = Field(ge=0)
    end: float = Field(gt=0)


class BlankPublic(Public):
    id: str
    lesson_id: str
    start: float
    end: float
    created_by: str | None
    created_at: UTCDateTime
    status: BlankStatus = Field(
        description="pending (clips are blanked, the stored lesson not yet), applying, applied "
        "(the stored recording and transcripts are rewritten: it cannot be removed) or failed "
        "(`error_code`; the stored lesson was left as it was)"
    )
    applied_at: UTCDateTime | None
    error_code: str | None
    error_message: str | None


class KeepUntilUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"keep_until": "2027-07-31T00:00:00Z"}]}
    )
    keep_until: AwareDateTime | None = Field(
        description="Keep the lesson until then, past the school's retention date (the owner "
        "up to `retention_owner_extend_days` past it, an admin up to `retention_max_days` after "
        "upload); null: back to the school's date."
    )


class TranscriptKeepUntilUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"transcript_keep_until": "2027-07-31T00:00:00Z"}]}
    )
    transcript_keep_until: AwareDateTime | None = Field(
        description="Keep the lesson's transcripts until then, past the school's transcript "
        "date (an admin, up to `retention_max_days` after upload); null: back to the school's "
        "date."
    )


class ConsentUpdate(BaseModel):
    """The consent state, research use, or both; what is left out stays as it is."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"consent": "blur_faces"}, {"research_use": False}]}
    )
    consent: Consent | None = None
    research_use: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> ConsentUpdate:
        if self.consent is None and self.research_use is None:
            raise ValueError("Give `consent`, `research_use` or both.")
        return self


class WordPublic(BaseModel):
    start: float
    end: float
    text: str
    probability: float = 1.0


class TranscriptSegmentPublic(BaseModel):
    start: float
    end: float
    text: str
    words: list[WordPublic] = Field(default_factory=list)


class TranscriptPublic(BaseModel):
    """transcript.json: segments with word timings (the word list indexes clip word ranges)."""

    language: str
    duration: float
    segments: list[TranscriptSegmentPublic]


class SegmentPublic(BaseModel):
    start: float
    end: float
    title: DisplayText = ""
    text: str = ""


# talk analytics


class AnalyticsRun(BaseModel):
    start: float
    end: float
    label: str = Field(description='"speech", "teacher", "pupil" or "silence".')
    words: int = 0


class AnalyticsQuestion(BaseModel):
    start: float
    end: float
    text: str
    kind: str = Field(description='"open" or "closed" (a rule set over the words).')
    speaker: str
    wait: float = Field(description="Seconds of silence after it before anyone spoke.")
    answered_by: str | None


class AnalyticsTalk(BaseModel):
    label: str
    seconds: float
    share: float
    words: int
    words_per_minute: float | None
    longest: list[AnalyticsRun]


class AnalyticsFigure(BaseModel):
    name: str
    label: str
    value: float | None
    unit: str
    meaning: str = Field(description="What the figure says, in one plain line.")


class AnalyticsPublic(BaseModel):
    """A lesson's talk analytics: evidence for a conversation, never a score."""

    note: str
    how_sure: str
    duration: float
    speakers: bool
    speaker_confidence: float | None
    edges_from_voice: bool
    figures: list[AnalyticsFigure]
    talk: list[AnalyticsTalk]
    timeline: list[AnalyticsRun]
    questions: list[AnalyticsQuestion]


# frameworks


class FrameworkPublic(Public):
    id: str
    name: DisplayText
    version: str
    source: str
    strand_count: int


class StrandPublic(Public):
    id: str
    framework_id: str
    standard: int
    kind: StrandKind
    code: str
    title: DisplayText
    parent_id: str | None


# clips


class ClipCreate(BaseModel):
    """A clip by seconds (start, end) or by transcript words (word_start, word_end inclusive)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lesson_id": "3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b",
                    "start": 61.5,
                    "end": 95.0,
                    "title": "Cold-call after wait time",
                    "note": "Look at how many hands go up after the pause.",
                },
                {
                    "lesson_id": "3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b",
                    "word_start": 120,
                    "word_end": 164,
                },
            ]
        }
    )
    lesson_id: str = ID
    start: float | None = Field(None, ge=0)
    end: float | None = Field(None, ge=0)
    word_start: int | None = Field(None, ge=0, description="Index into the transcript's words.")
    word_end: int | None = Field(None, ge=0, description="Inclusive.")
    title: DisplayText = Field("", max_length=300)
    note: DisplayText = Field("", max_length=5000)

    @model_validator(mode="after")
    def _one_way(self) -> ClipCreate:
        by_time = self.start is not None or self.end is not None
        by_words = self.word_start is not None or self.word_end is not None
        if by_time == by_words:
            raise ValueError("give either start and end (seconds) or word_start and word_end")
        if by_time and (self.start is None or self.end is None):
            raise ValueError("give both start and end")
        if by_words and (self.word_start is None or self.word_end is None):
            raise ValueError("give both word_start and word_end")
        return self


class ClipUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Wait time", "end": 98}]})
    title: DisplayText | None = Field(None, max_length=300)
    note: DisplayText | None = Field(None, max_length=5000)
    start: float | None = Field(None, ge=0)
    end: float | None = Field(None, ge=0)


class TagCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"strand_ids": ["ecf-2019:4e", "ecf-2019:6b"]}]}
    )
    strand_ids: list[str] = Field(min_length=1, max_length=20)


class StrandSuggestion(BaseModel):
    """A strand the clip's words and talk figures suggest; only a suggestion until a mentor
    tags it (POST /clips/{id}/tags)."""

    strand_id: str
    framework_id: str
    code: str
    title: DisplayText
    why: str
    """Plain words: what in the clip matched."""
    words: list[str]
    figures: list[str]
    score: float


class TagPublic(BaseModel):
    strand_id: str
    framework_id: str
    code: str
    title: DisplayText
    kind: StrandKind
    tagged_at: UTCDateTime


class ClipPublic(ConsentShown):
    id: str
    lesson_id: str
    lesson_title: DisplayText
    author: UserBrief | None
    title: DisplayText
    note: DisplayText
    start: float
    end: float
    duration: float
    word_start: int | None
    word_end: int | None
    render_status: RenderStatus
    render_error_code: str | None
    render_error_message: str | None
    created_at: UTCDateTime
    updated_at: UTCDateTime
    tags: list[TagPublic]
    comment_count: int
    reflection: bool = Field(
        False,
        description="Made by the teacher who taught the lesson: private to them until they "
        "share it with their mentor (POST /clips/{id}/share-with-mentor).",
    )


class CommentCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"at": 12.5, "kind": "strength", "body": "Clear signal for attention here."},
                {"at": 12.5, "kind": "note", "body": "I noticed it too.", "parent_id": "c" * 32},
            ]
        }
    )
    at: float = Field(0.0, ge=0, description="Seconds from the start of the clip.")
    kind: CommentKind = CommentKind.note
    body: DisplayText = Field(min_length=1, max_length=5000)
    parent_id: str | None = Field(None, max_length=64, description="Reply to this comment.")


class CommentPublic(BaseModel):
    id: str
    clip_id: str | None = Field(description="The clip it is on; null for a lesson comment.")
    lesson_id: str | None = Field(
        None, description="The lesson it is on, for a comment on the whole lesson."
    )
    parent_id: str | None
    author: UserBrief | None
    at: float = Field(description="Seconds into the clip, or into the lesson.")
    kind: CommentKind
    body: DisplayText = Field(description='Empty once removed ("comment removed").')
    created_at: UTCDateTime
    edited_at: UTCDateTime | None = None
    deleted: bool = Field(False, description="Removed by its author; kept for its replies.")
    editable_until: UTCDateTime | None = Field(
        None, description="The caller wrote it and may edit or delete it until then."
    )
    replies: list[CommentPublic] = Field(default_factory=list)


class CommentUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"body": "Clearer signal here."}]})
    body: DisplayText | None = Field(None, min_length=1, max_length=5000)
    kind: CommentKind | None = None


class ShareCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"until": "2026-12-31T23:59:00Z"}]})
    until: AwareDateTime | None = Field(
        None, description="Share expires then (with its offset); none: until revoked."
    )


class SharePublic(BaseModel):
    id: str
    clip_id: str
    recipient: UserBrief
    shared_by: UserBrief | None
    created_at: UTCDateTime
    until: UTCDateTime | None
    revoked_at: UTCDateTime | None
    active: bool
    deletes_on: UTCDateTime | None = Field(
        None,
        description="When the school's share period deletes this share (the recipient's "
        "access and the rendered file); null while the school keeps shares.",
    )


class FeedClip(ConsentShown):
    id: str
    title: DisplayText
    note: DisplayText
    start: float
    end: float
    duration: float
    lesson_id: str
    lesson_title: DisplayText


class FeedItem(BaseModel):
    share_id: str
    shared_at: UTCDateTime
    until: UTCDateTime | None
    deletes_on: UTCDateTime | None = Field(
        None, description="When the school's share period removes it from you (null: it does not)."
    )
    shared_by: UserBrief | None
    model_practice: bool = Field(
        False,
        description="A model clip (a teacher's own lesson) shared with you or a group you are "
        "in, rather than a clip of your lesson shared for coaching; `share_id` is then the "
        "model share's.",
    )
    clip: FeedClip
    tags: list[TagPublic]
    comment_count: int = Field(description="The comments on the clip you can read.")


class AuditEventPublic(Public):
    id: int
    at: UTCDateTime
    actor_id: str | None
    action: str
    object_type: str
    object_id: str
    client: str
    detail: dict[str, Any]


class MediaLinks(BaseModel):
    """Signed links for players that cannot send the Authorization header.

    Each URL carries `token=`, valid for this one lesson or clip, for this user, until
    `expires_at` (minutes), and no longer once the session that asked for it signs out. Access
    is checked again on every request. Ask again before `expires_at`; null means there is no
    such file.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "eyJhbGciOiJIUzI1NiIs...",
                    "expires_at": "2026-11-24T18:10:00Z",
                    "expires_in": 600,
                    "media": "/api/v1/lessons/3f2a/media?token=eyJhbGciOiJIUzI1NiIs...",
                    "captions": "/api/v1/lessons/3f2a/transcript?format=vtt&token=eyJhbG...",
                    "thumbnails": "/api/v1/lessons/3f2a/thumbnails.vtt?token=eyJhbG...",
                    "sprite": "/api/v1/lessons/3f2a/sprite.jpg?token=eyJhbG...",
                    "poster": "/api/v1/lessons/3f2a/poster.jpg?token=eyJhbG...",
                }
            ]
        }
    )
    token: str
    expires_at: UTCDateTime
    expires_in: int = Field(description="Seconds until the links stop working.")
    media: str | None
    captions: str | None
    thumbnails: str | None = None
    sprite: str | None = None
    poster: str | None = None


class Health(BaseModel):
    status: str = "ok"


# lessons: transcription controls


Vocabulary = list[Annotated[str, Field(min_length=1, max_length=100)]]


class TranscriptionCreate(BaseModel):
    """Settings for transcribing a lesson again; a field left out keeps the lesson's current
    setting, null goes back to the deployment's default."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"language": "en", "vocabulary": ["phonics", "SENCO", "Mr Okafor"]}]
        },
    )
    model: str | None = Field(
        None, min_length=1, max_length=300, description="One of the deployment's allowed models."
    )
    language: str | None = Field(None, pattern=r"^[a-z]{2,3}$", examples=["en"])
    vocabulary: Vocabulary | None = Field(None, max_length=200)


class TranscriptVersionPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "number": 1,
                    "created_at": "2026-11-24T09:10:00Z",
                    "model": "default",
                    "language": "en",
                    "vocabulary": [],
                    "words": 5120,
                    "current": False,
                    "ready": True,
                }
            ]
        }
    )
    number: int
    created_at: UTCDateTime | None = Field(description="When this transcript was made.")
    model: str
    language: str
    vocabulary: list[str]
    words: int | None = Field(description="Number of words; null until the transcript is made.")
    current: bool = Field(description="The transcript captions, clips and search use.")
    ready: bool = Field(description="False while the current transcript is still being made.")
    kind: str = Field(
        "transcription",
        description='"transcription" (made by the model), "correction" (a person edited '
        'sentences) or "revert" (a copy of an earlier version).',
    )
    author: UserBrief | None = Field(None, description="Who corrected or reverted it.")
    reverted_from: int | None = Field(None, description="For a revert: the version copied.")


class SearchHit(BaseModel):
    """A sentence of a lesson's current transcript that matches; open the lesson at `start`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lesson_id": "3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b",
                    "lesson_title": "Y8 ratio",
                    "sentence": 12,
                    "start": 84.2,
                    "end": 88.9,
                    "snippet": "…what is half of eight? Show me on your whiteboards",
                    "highlights": [[8, 12]],
                }
            ]
        }
    )
    lesson_id: str
    lesson_title: DisplayText
    sentence: int = Field(description="The sentence's index in the transcript's segments.")
    start: float = Field(description="Seconds from the start of the lesson.")
    end: float
    snippet: str = Field(description="The matching words with some context, as plain text.")
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) character ranges of the matched words in `snippet`."
    )


class SentenceEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index: int = Field(ge=0, le=1_000_000, description="The sentence (segment) number, from 0.")
    text: str = Field(
        max_length=5000,
        description="The sentence as it should read; words left as they were keep their times.",
    )


class TranscriptCorrection(BaseModel):
    """Retyped sentences of the current transcript, saved as a new version."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"version": 2, "sentences": [{"index": 4, "text": "What is half of 8?"}]}]
        },
    )
    version: int = Field(
        ge=1,
        le=1_000_000,
        description="The number of the version you corrected (the current one); 409 if "
        "someone saved another version since.",
    )
    sentences: list[SentenceEdit] = Field(min_length=1, max_length=500)


class TranscriptRevert(BaseModel):
    """Go back to an earlier version: a copy of it becomes the newest."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"version": 1}]})
    version: int = Field(ge=1, le=1_000_000, description="The kept version to copy.")


class LessonUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"transcribe": False}]}
    )
    transcribe: bool | None = Field(
        None,
        description="false switches transcription off (add `?delete_transcripts=true` to remove "
        "the transcripts too); true switches it back on and transcribes the lesson if it has no "
        "transcript.",
    )


# batches


class BatchCreate(BaseModel):
    """Recordings to transcribe together: finished uploads, lessons you can see, and files in
    server folders an administrator allowed (`CLIPCOACH_BATCH_ALLOWED_DIRS`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Spring term, Year 8",
                    "upload_ids": ["3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b"],
                    "paths": ["/srv/recordings/spring/y8-ratio.mp4", "/srv/recordings/autumn"],
                }
            ]
        },
    )
    name: DisplayText = Field("", max_length=300)
    upload_ids: list[Annotated[str, ID]] = Field(default_factory=list, max_length=1000)
    lesson_ids: list[Annotated[str, ID]] = Field(default_factory=list, max_length=1000)
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        default_factory=list,
        max_length=1000,
        description="Absolute server paths of recordings or folders (a folder's files, not its "
        "subfolders), inside an allowed folder after resolving links.",
    )
    transcribe: bool = True

    @model_validator(mode="after")
    def _something(self) -> BatchCreate:
        if not (self.upload_ids or self.lesson_ids or self.paths):
            raise ValueError("give at least one of upload_ids, lesson_ids or paths")
        return self


class BatchItemPublic(BaseModel):
    source_name: str
    lesson_id: str | None
    reused: bool = Field(description="Already processed content: an existing lesson was reused.")
    status: str = Field(description="The lesson's status, or `failed` if no lesson was made.")
    stage: str | None
    progress: int
    error_code: str | None
    error_message: str | None


class BatchCounts(BaseModel):
    total: int
    queued: int
    processing: int
    ready: int
    failed: int


class BatchSummary(BaseModel):
    id: str
    name: DisplayText
    owner_id: str
    created_at: UTCDateTime
    finished: bool = Field(description="No item is queued or processing.")
    counts: BatchCounts


class BatchPublic(BatchSummary):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9a" * 16,
                    "name": "Spring term, Year 8",
                    "owner_id": "c" * 32,
                    "created_at": "2026-11-24T09:00:00Z",
                    "finished": False,
                    "counts": {"total": 2, "queued": 0, "processing": 1, "ready": 1, "failed": 0},
                    "items": [
                        {
                            "source_name": "y8-ratio.mp4",
                            "lesson_id": "3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b",
                            "reused": False,
                            "status": "processing",
                            "stage": "transcribe",
                            "progress": 42,
                            "error_code": None,
                            "error_message": None,
                        }
                    ],
                }
            ]
        }
    )
    items: list[BatchItemPublic]


class BatchRetried(BatchPublic):
    retried: int = Field(description="How many failed lessons were queued to be processed again.")


class BatchFolderFile(BaseModel):
    name: str
    size: int = Field(description="Bytes.")


class BatchFolderPublic(BaseModel):
    """A server folder a batch may read (`CLIPCOACH_BATCH_ALLOWED_DIRS`, or directly inside
    one); submit its `path` in `paths` to take all its files."""

    path: str
    files: list[BatchFolderFile] = Field(description="Its files, the first 500 by name.")
    file_count: int = Field(description="How many files a batch of this folder takes.")


# action steps

TargetDate = Annotated[
    date,
    Field(description="A calendar date (YYYY-MM-DD), today or later; today is taken in UTC."),
]
ShortNote = Annotated[DisplayText, Field(max_length=2000)]


class ActionStepCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ect_id": "b" * 32,
                    "instruction": "After each question, wait 3 seconds before taking an answer.",
                    "strand_ids": ["ecf-2019:5d"],
                    "clip_ids": ["c" * 32],
                    "target_date": "2026-12-11",
                }
            ]
        }
    )
    ect_id: str = ID
    instruction: DisplayText = Field(min_length=1, max_length=MAX_INSTRUCTION)
    strand_ids: list[str] = Field(min_length=1, max_length=10)
    clip_ids: list[str] = Field(default_factory=list, max_length=10)
    target_date: TargetDate


class ActionStepUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"target_date": "2026-12-18"}]})
    instruction: DisplayText | None = Field(None, min_length=1, max_length=MAX_INSTRUCTION)
    strand_ids: list[str] | None = Field(None, min_length=1, max_length=10)
    clip_ids: list[str] | None = Field(None, max_length=10)
    target_date: TargetDate | None = None


class ActionStepPractised(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"note": "Waited before every answer in period 3.", "evidence_clip_id": None}
            ]
        }
    )
    note: DisplayText = Field(min_length=1, max_length=2000)
    evidence_clip_id: str | None = Field(
        None,
        max_length=64,
        description="A clip of your own lesson showing it; it is shared with your mentor.",
    )


class ActionStepClose(BaseModel):
    note: ShortNote = ""


class ActionStepCarry(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"target_date": "2026-12-18"}]})
    target_date: TargetDate
    note: ShortNote = ""


class StepStrand(BaseModel):
    id: str
    framework_id: str
    code: str
    title: DisplayText


class StepClip(BaseModel):
    """A clip named by a step. Its title and moment show only to those who may watch it (the
    clip, or the ECT's lesson it is of); others see that there is one."""

    id: str
    viewable: bool
    title: DisplayText = ""
    lesson_id: str | None = None
    lesson_title: DisplayText = ""
    start: float | None = None
    end: float | None = None
    href: str | None = Field(None, description="The page to watch it: the clip, or the lesson.")


class ActionStepPublic(BaseModel):
    id: str
    ect: UserBrief
    set_by: UserBrief | None
    instruction: DisplayText
    target_date: date
    status: StepStatus
    strands: list[StepStrand]
    clips: list[StepClip]
    practice_note: DisplayText
    practised_at: UTCDateTime | None
    evidence: StepClip | None
    review_note: DisplayText
    reviewed_at: UTCDateTime | None
    reviewed_by: UserBrief | None
    carried_from_id: str | None
    created_at: UTCDateTime
    overdue: bool = Field(description="Still current and its target date has passed.")


class ObservationSchedule(BaseModel):
    ect: UserBrief
    induction_start: date | None = Field(description="Null: not set (an admin sets it).")
    induction_year: int | None = Field(description="1 or 2 during induction; null otherwise.")
    interval_days: int | None = Field(description="7 in year one, 14 in year two.")
    last_observation: date | None = Field(description="The day the latest step was set.")
    next_observation_due: date | None


# an ECT's progress (evidence, never a score)


class ProgressTerm(BaseModel):
    key: str = Field(examples=["2026-1"])
    label: str = Field(examples=["Autumn 1 2026/27"])
    start: date
    end: date = Field(description="The period's last day (approximate: see the route).")
    lessons: int = Field(description="Lessons uploaded (observed) in the period.")
    lessons_clipped: int = Field(description="Of those, lessons with at least one clip.")
    clips: int
    steps_set: int
    steps_practised: int
    steps_closed: int
    steps_carried: int


class ProgressClip(BaseModel):
    id: str | None = Field(description="Null when the caller may not open the clip (admin).")
    title: DisplayText = ""
    lesson_title: DisplayText = ""
    day: date
    href: str | None = None


class ProgressStrand(BaseModel):
    id: str
    framework_id: str
    standard: int
    code: str
    title: DisplayText
    clips: int = Field(description="Tagged clips evidencing the strand.")
    latest: ProgressClip


class ProgressTalk(BaseModel):
    """One lesson's talk figures (from its stored analytics)."""

    lesson_id: str
    lesson_title: DisplayText
    day: date
    duration: float | None
    long_wait_share: float | None = Field(description="Share of questions followed by >= 3 s.")
    questions_per_ten_minutes: float | None
    teacher_share: float | None = Field(description="Null when voices were not told apart.")


class ProgressSteps(BaseModel):
    set: int
    practised: int
    closed: int
    carried: int
    current: int = Field(description="Open or practised now.")


class ProgressPublic(BaseModel):
    ect: UserBrief
    induction_start: date | None
    today: date
    note: str
    half_terms_note: str
    terms: list[ProgressTerm]
    strands: list[ProgressStrand]
    steps: ProgressSteps
    talk: list[ProgressTalk]


# notifications (derived from shares, comments, steps and the observation rhythm)


class NotificationPublic(BaseModel):
    key: str = Field(description="Names the item and its state; give it back to mark it read.")
    kind: NotificationKind
    group: str = Field(description="shares, comments, steps or observations (the counts' keys).")
    at: UTCDateTime = Field(description="When it became news.")
    read: bool
    text: DisplayText = Field(description="One line to show, e.g. 'Mentor shared a clip'.")
    subject: DisplayText = Field(description="What it is about: a clip's title, a step's words.")
    excerpt: DisplayText = Field("", description="A comment's first words.")
    actor: UserBrief | None
    href: str = Field(description="The page to open for it.")
    due: date | None = None


class NotificationList(BaseModel):
    unread: int = Field(description="Unread items in all (the badge).")
    counts: dict[str, int] = Field(description="Unread items per group.")
    items: list[NotificationPublic] = Field(description="Newest first, read ones too.")


class NotificationsRead(BaseModel):
    keys: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        min_length=1, max_length=200
    )


# collections


class CollectionCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Wait time: three moments this half-term",
                    "clip_ids": ["3f2a9c0e5b1d4e6f8a7b6c5d4e3f2a1b"],
                }
            ]
        }
    )
    title: DisplayText = Field(min_length=1, max_length=300)
    note: DisplayText = Field("", max_length=5000)
    clip_ids: list[Annotated[str, ID]] = Field(
        default_factory=list, max_length=50, description="In playing order."
    )


class CollectionUpdate(BaseModel):
    title: DisplayText | None = Field(None, min_length=1, max_length=300)
    note: DisplayText | None = Field(None, max_length=5000)


class CollectionItems(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"clip_ids": ["c2", "c1"]}]})
    clip_ids: list[Annotated[str, ID]] = Field(
        max_length=50,
        description="The whole collection in playing order: reorders, adds and removes clips.",
    )


class CollectionShareCreate(BaseModel):
    ect_id: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="The ECT to share with; none: the one whose lessons the clips are of.",
    )
    until: AwareDateTime | None = Field(
        None, description="The shares expire then (with its offset); none: until revoked."
    )


class CollectionSharePublic(BaseModel):
    recipient: UserBrief
    created_at: UTCDateTime
    until: UTCDateTime | None


class CollectionPublic(BaseModel):
    id: str
    title: DisplayText
    note: DisplayText
    owner: UserBrief | None
    created_at: UTCDateTime
    clips: list[ClipPublic] = Field(description="In playing order; only those you may see.")
    shared_with: list[CollectionSharePublic] = Field(
        description="Who it is live for (shown to its owner only)."
    )


# class lists (models/pupilnames.py)


class PupilNameCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Aisha", "scope": "mine"}]})
    name: DisplayText = Field(
        min_length=1, max_length=60, description="A pupil's first name or nickname."
    )
    scope: Literal["mine", "school"] = Field(
        "mine", description="Your own class list, or the school's (administrators)."
    )


class PupilNameUpdate(BaseModel):
    name: DisplayText = Field(min_length=1, max_length=60)


class PupilNamePublic(Public):
    id: str
    name: str
    scope: Literal["mine", "school"]
    created_at: AwareDateTime


# model practice (models/model_practice.py)


class ModelClipMark(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Watch how I wait before taking answers."}]}
    )
    note: DisplayText = Field("", max_length=2000, description="What to watch for.")


class ModelClipPublic(ConsentShown):
    """A model clip as lists show it; an admin sees this record, never the recording."""

    clip_id: str
    title: DisplayText
    lesson_title: DisplayText
    teacher: UserBrief | None
    note: DisplayText
    duration: float
    tags: list[TagPublic]
    consented_at: UTCDateTime = Field(description="When its teacher marked it model practice.")
    published_at: UTCDateTime | None = Field(description="In the school's library since.")
    mine: bool = Field(description="Of the caller's own lesson.")


class ModelShareCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"group_id": "g" * 32}]})
    ect_id: Annotated[str, ID] | None = Field(None, description="One of your paired ECTs.")
    group_id: Annotated[str, ID] | None = Field(None, description="A group of ECTs.")

    @model_validator(mode="after")
    def one_target(self) -> ModelShareCreate:
        if (self.ect_id is None) == (self.group_id is None):
            raise ValueError("Give exactly one of `ect_id` and `group_id`.")
        return self


class EctGroupBrief(Public):
    id: str
    name: DisplayText


class ModelSharePublic(BaseModel):
    id: str
    clip_id: str
    ect: UserBrief | None
    group: EctGroupBrief | None
    shared_by: UserBrief | None
    created_at: UTCDateTime
    revoked_at: UTCDateTime | None
    active: bool


class EctGroupCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Science ECTs 2026", "ect_ids": ["b" * 32]}]}
    )
    name: DisplayText = Field(min_length=1, max_length=200)
    ect_ids: list[Annotated[str, ID]] = Field(default_factory=list, max_length=500)


class EctGroupUpdate(BaseModel):
    name: DisplayText = Field(min_length=1, max_length=200)


class EctGroupMembers(BaseModel):
    ect_ids: list[Annotated[str, ID]] = Field(max_length=500)


class EctGroupPublic(EctGroupBrief):
    owner: UserBrief | None
    members: list[UserBrief]
    created_at: UTCDateTime
