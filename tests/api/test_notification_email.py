"""The email digest through a real SMTP conversation with a local sink (aiosmtpd): it says how
many new items there are and links to the list, and nothing of any lesson, clip or person."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from models.settings import Settings, get_settings
from tests.api.conftest import WORDS, World


class Sink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _email_on(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("CLIPCOACH_EMAIL_NOTIFICATIONS", "true")
    monkeypatch.setenv("CLIPCOACH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CLIPCOACH_SMTP_PORT", str(port))
    monkeypatch.setenv("CLIPCOACH_SMTP_FROM", "clipcoach@school.test")
    monkeypatch.setenv("CLIPCOACH_PUBLIC_URL", "https://clipcoach.school.test/")
    get_settings.cache_clear()


def _send() -> None:
    from workers.tasks import send_email_digests

    send_email_digests()


def test_digest_says_how_many_and_links_and_nothing_else(
    world: World, sink: tuple[Sink, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = sink
    _send()  # off by default: nothing sent
    assert handler.messages == []

    _email_on(monkeypatch, port)
    _send()
    by_to = {m["To"]: m for m in handler.messages}
    assert sorted(by_to) == ["ect_a@school.test", "ect_b@school.test", "mentor@school.test"]
    ect_a = by_to["ect_a@school.test"]
    assert ect_a["Subject"] == "You have 3 new items in clipcoach"
    assert ect_a["From"] == "clipcoach@school.test"
    body = ect_a.get_content()
    assert "https://clipcoach.school.test/notifications" in body
    forbidden = [
        "Lesson of",  # lesson titles
        *(key for key in world.ids if key.startswith("clip_")),  # clip titles
        "Look here",  # comment bodies
        "Whole lesson",
        "Wait three seconds",  # the action step
        "Ect A",  # people's names
        "Ect B",
        "Mentor",
        *(w.strip(".") for w in WORDS if len(w) > 4),  # the transcript
    ]
    for message in handler.messages:
        text = message.as_string()
        assert not [f for f in forbidden if f in text], text

    handler.messages.clear()
    _send()  # nothing new since the last digest
    assert handler.messages == []
    made = world.client.post(
        f"/api/v1/lessons/{world.ids['lesson_a']}/comments",
        json={"at": 4.0, "body": "Have a look at 0:04"},
        headers=world.auth("mentor"),
    )
    assert made.status_code == 201
    _send()
    assert [(m["To"], m["Subject"]) for m in handler.messages] == [
        ("ect_a@school.test", "You have 1 new item in clipcoach")
    ]


def test_an_smtp_server_that_is_down_is_tried_again_next_time(
    world: World, sink: tuple[Sink, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = sink
    _email_on(monkeypatch, _free_port())  # nothing listens there
    _send()  # logged, not raised
    _email_on(monkeypatch, port)
    _send()
    assert len(handler.messages) == 3  # nobody's digest was recorded as sent by the failed run


def test_email_on_without_a_server_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIPCOACH_EMAIL_NOTIFICATIONS", "true")
    with pytest.raises(ValueError, match="CLIPCOACH_SMTP_HOST"):
        Settings()
    monkeypatch.setenv("CLIPCOACH_SMTP_HOST", "mail.school.example")
    monkeypatch.setenv("CLIPCOACH_SMTP_FROM", "clipcoach@school.example")
    monkeypatch.setenv("CLIPCOACH_SMTP_USERNAME", "clipcoach")
    with pytest.raises(ValueError, match="in clear"):
        Settings()
    monkeypatch.setenv("CLIPCOACH_SMTP_SECURITY", "starttls")
    assert Settings().smtp_security == "starttls"
