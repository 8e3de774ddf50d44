"""Chromium plays a clip copied with a hidden lead-in (`ClipOptions(edit_list=True)`) from its
start: the picture at 0 s is the lesson's frame at the clip's start, the last one is the frame
before its end, and none of the copied group's hidden pictures shows on either side."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser

from pipeline.clip import ClipOptions, render_clip
from pipeline.normalise import normalise
from pipeline.probe import probe
from tests import mediafactory as mf

GRAB = """async ([url, times]) => {
  const v = document.createElement('video');
  v.muted = true;
  v.preload = 'auto';
  // a blob: copy, because http.server answers no byte ranges and Chromium seeks by them
  v.src = URL.createObjectURL(await (await fetch(url)).blob());
  document.body.appendChild(v);
  await new Promise((ok, bad) => {
    v.onloadeddata = ok;
    v.onerror = () => bad(String(v.error && v.error.message));
  });
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext('2d');
  const shots = [];
  for (const t of times) {
    if (t !== 0) {
      // the seeked event can come before the new picture is composited: wait for that too
      const painted = new Promise(ok => v.requestVideoFrameCallback(() => ok()));
      v.currentTime = t;
      await new Promise(ok => { v.onseeked = ok; });
      await Promise.race([painted, new Promise(ok => setTimeout(ok, 5000))]);
    }
    g.drawImage(v, 0, 0);
    const image = g.getImageData(0, 0, c.width, c.height);
    shots.push({at: v.currentTime, pixels: Array.from(image.data)});
  }
  return {duration: v.duration, width: c.width, height: c.height, shots};
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A folder served over HTTP on 127.0.0.1 (a file: video would taint the canvas)."""
    folder = tmp_path_factory.mktemp("served")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


def test_chromium_starts_a_lead_in_clip_at_its_first_frame(
    browser: Browser, served: tuple[str, Path]
) -> None:
    url, folder = served
    src = mf.make_counter_video(folder / "camera.mp4", frames=500, gop=250)  # IDRs at 0, 10 s
    lesson = folder / "lesson.mp4"
    assert normalise(src.path, lesson, probe(src.path)).plan.is_remux
    # 6.04 s is frame 151, 151 frames after the IDR at 0; 13.96 s (frame 349) the last shown
    result = render_clip(lesson, folder / "clip.mp4", 6.04, 14.0, ClipOptions(edit_list=True))
    assert result.copied_frames == result.frames == 199

    page = browser.new_page()
    try:
        page.goto(f"{url}/")
        got = page.evaluate(GRAB, [f"{url}/clip.mp4", [0, 4.02, 7.94, 8.03]])
    finally:
        page.close()
    # the duration Chromium states may include the two pictures past the end the copy carries
    # (8.04 s from a blob: copy), but it never shows them: 8.03 s still shows the last frame
    assert got["duration"] == pytest.approx(199 / 25, abs=0.09)
    shown = []
    for shot in got["shots"]:
        rgba = np.array(shot["pixels"], dtype=np.float32).reshape(got["height"], got["width"], 4)
        shown.append(mf.read_counter(rgba[:, :, :3].mean(axis=2)))
    assert shown == [151, 251, 349, 349]
