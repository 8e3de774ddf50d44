"""Consent: what the pupils in a lesson's recording (and their parents) agreed to, as a state of
the lesson that decides how its clips may be shared and rendered.

    all_visible   all pupils may appear: clips are shared and rendered as recorded
    blur_faces    some pupils must not be identifiable: every rendered clip has faces blurred
    audio_only    no pupils visible: shared clips carry sound and captions, no picture
    not_shared    no consent to share: clips stay between the lesson's owner and their mentor

The owner and their mentor always see the lesson itself exactly as recorded (the coaching needs
it); the state governs rendered clips and shares. It is set at upload (the school-wide default
`consent_default` in settings when the uploader does not choose), changed by the owner or an
admin, and every change is audited. A share or render that would break it is refused with 409 and
one of the reason codes below, in brackets in the detail.
"""

from __future__ import annotations

import enum


class Consent(enum.StrEnum):
    all_visible = "all_visible"
    blur_faces = "blur_faces"
    audio_only = "audio_only"
    not_shared = "not_shared"


LABELS = {
    Consent.all_visible: "All pupils may appear",
    Consent.blur_faces: "Some pupils must not be identifiable: shared clips have faces blurred",
    Consent.audio_only: "No pupils visible: shared clips are sound only",
    Consent.not_shared: "No consent to share: clips stay with the teacher and their mentor",
}


RESEARCH_LABELS = {
    True: "May be used for research (exports)",
    False: "Not for research use: left out of research exports",
}
"""Research use is a flag beside the state (`Lesson.research_use`): the pupils may agree to
coaching and sharing and still not to researchers reading the lesson."""

RESEARCH_EXCLUDED = "research_use_excluded"
"""The code of a research export refused because the lesson's consent excludes research use."""


class Rendition(enum.StrEnum):
    """How a clip's MP4 is made; part of its storage key, so a consent change never serves a
    file made under the old state."""

    plain = "plain"
    blurred = "blurred"
    audio = "audio"


class ConsentRefusedError(Exception):
    """A share or render the lesson's consent does not allow (409 with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


def rendition_for(consent: Consent, *, has_video: bool | None) -> Rendition:
    """The only rendition a lesson's clips may be rendered as under `consent`."""
    if not has_video:
        return Rendition.plain  # nothing to see: the sound is the same in every rendition
    if consent == Consent.blur_faces:
        return Rendition.blurred
    if consent == Consent.audio_only:
        return Rendition.audio
    return Rendition.plain


def check_share(consent: Consent, *, has_audio: bool | None) -> None:
    """Raise ConsentRefusedError when a clip of a lesson with `consent` may not be shared."""
    if consent == Consent.not_shared:
        raise ConsentRefusedError(
            "consent_not_shared",
            "This lesson's consent does not allow sharing its clips; its owner or an admin can "
            "change the consent state.",
        )
    if consent == Consent.audio_only and has_audio is False:
        raise ConsentRefusedError(
            "consent_audio_only_no_sound",
            "This lesson may be shared as sound only, and the recording has no sound.",
        )


def check_view(consent: Consent, *, coaching: bool, has_audio: bool | None) -> None:
    """Raise ConsentRefusedError when a viewer outside the coaching pair (an ECT through a
    share) may not watch a clip any more: consent may have been narrowed after sharing."""
    if not coaching:
        check_share(consent, has_audio=has_audio)
