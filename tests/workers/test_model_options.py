"""The transcription model spec comes from settings (device, compute type, threads), and equal
settings give equal specs, so `pipeline.transcribe.load_model`'s per-process cache is hit: a
worker process loads the model once, however many lessons it transcribes."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.settings import Settings
from workers.options import model_spec


def test_device_and_compute_type_flow_into_the_spec() -> None:
    spec = model_spec(Settings(device="cuda", compute_type="float16", cpu_threads=3))
    assert (spec.device, spec.compute_type, spec.cpu_threads) == ("cuda", "float16", 3)
    assert spec.name_or_path  # the bundled model's folder when no model is set
    override = model_spec(Settings(model="/models/small.en"), {"model": "/models/base.en"})
    assert override.name_or_path == "/models/base.en"


def test_equal_settings_give_one_cache_key() -> None:
    settings = Settings(device="cpu", compute_type="int8")
    first, second = model_spec(settings), model_spec(settings, {})
    assert first == second and hash(first) == hash(second)


@pytest.mark.model
def test_the_model_loads_once_per_process(settings: Settings) -> None:
    from pipeline.transcribe import load_model

    load_model.cache_clear()
    try:
        model = load_model(model_spec(settings))
        assert load_model(model_spec(settings)) is model
        info = load_model.cache_info()
        assert (info.misses, info.hits) == (1, 1)
    finally:
        load_model.cache_clear()


def test_cli_vocabulary_file_skips_comments_and_blanks(tmp_path: Path) -> None:
    """`clipcoach process/batch --vocabulary`: a `# comment` line is not a hotword."""
    from workers.options import vocabulary_file

    path = tmp_path / "terms.txt"
    path.write_text("# school terms\nphonics\n\n  SENCO  # special needs lead\nphonics\n")
    assert vocabulary_file(path) == ["phonics", "SENCO"]
