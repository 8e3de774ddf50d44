"""All configuration in one validated place: `CLIPCOACH_*` environment variables or `.env`.

Embedded defaults need nothing set: SQLite, a local storage folder, a filesystem Celery broker, the
bundled tiny.en model, all under `data_dir`. Each backend is chosen by one URL here; the code that
opens it (models.db, models.storage, models.queue) is the only code that looks at its scheme.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.consent import Consent

MIN_SECRET_KEY_BYTES = 32
"""The shortest explicitly set signing key accepted: HS256 wants a key as long as its hash."""

PLACEHOLDER_SECRETS = frozenset({"CHANGE_ME"})
"""Values shipped in `.env.example` that must be replaced before a deployment starts."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLIPCOACH_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(Path("var"), description="Root for every embedded backend's files.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in data_dir.")
    storage_url: str = Field(
        "",
        description="file:///path or s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false; "
        "empty means a folder in data_dir.",
    )
    broker_url: str = Field(
        "", description="Celery broker: redis://..., or empty for a filesystem queue in data_dir."
    )
    scratch_dir: Path | None = Field(None, description="Workers' temporary space for media.")
    rate_limit_url: str = Field(
        "",
        description="Where sign-in limits are counted (a `limits` storage URL, e.g. redis://...); "
        "empty means the broker's Redis if it is one, else memory (one API process).",
    )
    sign_in_per_account: int = Field(
        10,
        ge=1,
        description="Failed sign-ins one account may have from all addresses together in a "
        "window; then 429 `sign_in_limited_account` for it from anywhere (docs/reliability.md).",
    )
    sign_in_per_account_client: int = Field(
        5, ge=1, description="Failed sign-ins one account may have from one address in a window."
    )
    sign_in_per_client: int = Field(
        30,
        ge=1,
        description="Failed sign-ins (any email) one address may have in a window; then 429 "
        "`sign_in_limited_client` there, except for accounts that signed in from it lately.",
    )
    sign_in_window_seconds: int = Field(
        300,
        ge=1,
        description="How long a failed sign-in counts; a lock-out ends at most this long after "
        "the last failure.",
    )
    sign_in_known_client_days: int = Field(
        30,
        ge=1,
        description="An account that signed in from an address within this many days still "
        "may from there when the address is over `sign_in_per_client`.",
    )

    # transcription
    model: str = Field("", description="faster-whisper model name or folder; empty: tiny.en")
    device: Literal["cpu", "cuda"] = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = Field(0, ge=0, description="0: the model's default for this machine.")
    language: str = "en"
    vocabulary: list[str] = Field(default_factory=list, description="School terms to hint.")
    transcription_models: list[str] = Field(
        default_factory=list,
        description="Models (names or folders) a lesson may be re-transcribed with besides the "
        "deployment's own `model`; JSON list, empty by default.",
    )

    # safeguarding
    consent_default: Consent = Field(
        Consent.all_visible,
        description="A new lesson's consent state unless its uploader chooses one: all_visible, "
        "blur_faces, audio_only or not_shared (see docs/privacy.md).",
    )
    research_use_default: bool = Field(
        False,
        description="Whether a new lesson may be used for research (ELAN, TextGrid and CSV "
        "exports) unless its uploader says otherwise. Off by default: research use of pupils' "
        "recordings needs its own consent (see docs/privacy.md).",
    )

    retention_days: int = Field(
        0,
        ge=0,
        le=36500,
        description="Days after upload when a lesson (recording, transcripts, clips, comments) "
        "is deleted by the retention task; 0 (the default): kept until someone deletes it. "
        "30 is what one national recording tool uses (docs/privacy.md).",
    )
    retention_warning_days: int = Field(
        14,
        ge=0,
        le=365,
        description="How long before its date a lesson's owner and mentor "
        "are told it will be deleted.",
    )
    retention_owner_extend_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="How far past the school's date a lesson's owner may "
        "keep it (`keep_until`); further is an admin's decision.",
    )
    retention_max_days: int = Field(
        730,
        ge=1,
        le=36500,
        description="The latest an admin may keep a lesson, in days after upload.",
    )
    retention_transcript_days: int = Field(
        0,
        ge=0,
        le=36500,
        description="Days after upload when a lesson's transcripts (every version, the search "
        "index, captions, talk analytics, candidate clips) are deleted, the recording and the "
        "coaching kept; 0 (the default): kept with the lesson.",
    )
    retention_share_days: int = Field(
        0,
        ge=0,
        le=36500,
        description="Days after it was made when a share of a clip is deleted (the share, the "
        "recipient's access, the rendered file); when set, a share is also deleted as soon as it "
        "ends (expired or revoked). 0 (the default): ended shares stay as a record.",
    )
    retention_interval_seconds: float = Field(
        3600.0,
        ge=1,
        le=86400,
        description="How often the retention task looks for lessons "
        "past their date (in the worker with the beat).",
    )

    # coaching
    comment_edit_window_hours: float = Field(
        24.0,
        gt=0,
        description="How long after writing it the author of a comment or reply may edit or "
        "delete it; later, the change is refused (409 `comment_edit_window_closed`).",
    )

    # notifications by email (in-app notifications need nothing set)
    email_notifications: bool = Field(
        False,
        description="Email each user, at most every `email_interval_seconds`, how many new "
        "notifications they have, with a link and nothing else (no titles, names or lesson "
        "content: docs/privacy.md). Off by default; needs `smtp_host` and `smtp_from`.",
    )
    email_interval_seconds: float = Field(
        3600.0, ge=60, le=7 * 86400, description="How often the digest task runs (beat)."
    )
    smtp_host: str = Field("", description="The school's SMTP server.")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none", description="none (a relay inside the school), starttls (587) or tls (465)."
    )
    smtp_username: str = Field("", description="Login, if the server wants one (needs TLS).")
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = Field("", description="The From address, e.g. clipcoach@school.example.")
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=300)

    # coach batches
    batch_allowed_dirs: list[Path] = Field(
        default_factory=list,
        description="Server folders whose recordings coaches may submit as a batch by path; "
        "JSON list, empty by default (no server paths accepted).",
    )

    # proxies
    forwarded_allow_ips: str = Field(
        "",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto `serve` trusts; empty (the default): none, so a client cannot "
        "invent its address for the sign-in limits and the audit log.",
    )

    # limits
    max_upload_bytes: int = Field(8 * 1024**3, gt=0)
    max_duration_seconds: float = Field(4 * 3600, gt=0)
    stage_timeout_seconds: float = Field(3 * 3600, gt=0)
    upload_chunk_max_bytes: int = Field(64 * 1024**2, gt=0)
    max_json_body_bytes: int = Field(
        1024**2,
        gt=0,
        description="Any request body but a recording's (JSON, forms) over this is 413 "
        "`body_too_large`, refused while it streams, before sign-in or parsing.",
    )
    upload_max_open: int = Field(
        5, ge=1, description="Unfinished uploads one user may have open at once (429)."
    )
    upload_max_in_flight_bytes: int = Field(
        16 * 1024**3,
        gt=0,
        description="Declared bytes of one user's unfinished uploads, together (429).",
    )
    storage_quota_bytes: int = Field(
        0,
        ge=0,
        description="Recordings one user may keep (their lessons' sources plus open uploads); "
        "0: no quota (413).",
    )
    storage_quota_bytes_by_role: dict[str, int] = Field(
        default_factory=dict,
        description="Per-role quotas overriding `storage_quota_bytes`, JSON like "
        '{"ect": 50000000000}.',
    )
    upload_abandon_hours: float = Field(
        24.0, gt=0, description="An unfinished upload untouched this long is removed by the sweep."
    )

    # web
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = Field(
        "",
        description="Signs tokens; generated into data_dir when empty. When set: at least "
        f"{MIN_SECRET_KEY_BYTES} bytes and not the `.env.example` placeholder.",
    )
    token_ttl_minutes: int = Field(12 * 60, gt=0)
    media_token_ttl_seconds: int = Field(
        600,
        ge=30,
        le=24 * 3600,
        description="How long a signed media link (video, captions, pictures) works; pages "
        "renew theirs before then.",
    )
    public_url: str = ""
    seed_demo: bool = True
    sweep_interval_seconds: float = Field(
        60.0,
        ge=1,
        le=3600,
        description="How often the sweep runs (in the worker with the beat) to requeue stages "
        "whose worker or message was lost.",
    )
    shutdown_timeout_seconds: int = Field(
        10,
        ge=1,
        le=600,
        description="How long `serve` waits on SIGTERM or Ctrl+C for requests still running "
        "and for its workers before it cuts them off: a chunk still arriving is closed and "
        "stays resumable from the bytes that came; a stage still running is killed and later "
        "requeued by the sweep.",
    )

    worker_concurrency: int = Field(2, ge=1)

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("secret_key", mode="after")
    @classmethod
    def _safe_secret_key(cls, value: str) -> str:
        """Refuse a placeholder or short key at start-up rather than sign forgeable tokens.

        Empty stays allowed: it means "generate a random key into data_dir" (models.accounts).
        """
        if not value:
            return value
        if value.strip() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "CLIPCOACH_SECRET_KEY is still the placeholder from .env.example; set it to a "
                "random value (e.g. `openssl rand -hex 32`) or leave it empty to generate one"
            )
        if len(value.encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(
                f"CLIPCOACH_SECRET_KEY is {len(value.encode())} bytes; it must be at least "
                f"{MIN_SECRET_KEY_BYTES} (e.g. `openssl rand -hex 32`), or empty to generate one"
            )
        return value

    @model_validator(mode="after")
    def _email_needs_a_server(self) -> Settings:
        """Fail at start-up, not at the first digest, when email is on but cannot work."""
        if not self.email_notifications:
            return self
        if not self.smtp_host or not self.smtp_from:
            raise ValueError(
                "CLIPCOACH_EMAIL_NOTIFICATIONS is on: set CLIPCOACH_SMTP_HOST and "
                "CLIPCOACH_SMTP_FROM (the school's SMTP server and the From address)"
            )
        loopback = self.smtp_host in ("localhost", "127.0.0.1", "::1")
        if self.smtp_username and self.smtp_security == "none" and not loopback:
            raise ValueError(
                "CLIPCOACH_SMTP_USERNAME is set but CLIPCOACH_SMTP_SECURITY is none: the "
                "password would cross the network in clear; use starttls or tls"
            )
        return self

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'clipcoach.db'}"
        if not self.storage_url:
            self.storage_url = (self.data_dir / "storage").as_uri()
        if not self.broker_url:
            self.broker_url = "filesystem://"
        if self.scratch_dir is None:
            self.scratch_dir = self.data_dir / "scratch"
        return self

    @property
    def broker_folder(self) -> Path:
        """Where the embedded filesystem broker keeps its messages."""
        return self.data_dir / "broker"

    @property
    def scratch(self) -> Path:
        assert self.scratch_dir is not None  # noqa: S101 - filled by the validator
        return self.scratch_dir


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing env."""
    return Settings()
