"""Unsafe settings are refused when the settings are read, i.e. at start-up, naming the setting."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.app import create_app
from models.settings import MIN_SECRET_KEY_BYTES, Settings, get_settings


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("CHANGE_ME", "placeholder"),
        (" CHANGE_ME\n", "placeholder"),
        ("short", "5 bytes"),
        ("x" * (MIN_SECRET_KEY_BYTES - 1), f"{MIN_SECRET_KEY_BYTES - 1} bytes"),
        ("é" * 15, "30 bytes"),  # bytes, not characters, are what HS256 signs with
    ],
)
def test_unsafe_secret_key_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, key: str, reason: str
) -> None:
    monkeypatch.setenv("CLIPCOACH_SECRET_KEY", key)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "CLIPCOACH_SECRET_KEY" in str(refused.value)
    assert reason in str(refused.value)


def test_app_refuses_to_start_with_the_placeholder_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIPCOACH_SECRET_KEY", "CHANGE_ME")
    get_settings.cache_clear()
    with pytest.raises(ValidationError, match="CLIPCOACH_SECRET_KEY"):
        create_app()
    get_settings.cache_clear()


@pytest.mark.parametrize("key", ["", "k" * MIN_SECRET_KEY_BYTES, "é" * 16])
def test_empty_or_long_enough_key_is_accepted(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("CLIPCOACH_SECRET_KEY", key)
    assert Settings().secret_key == key
