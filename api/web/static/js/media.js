// Media for the player: the video, its captions track, thumbnail previews and the transcript.
//
// A <video>, <track> or CSS image cannot send an Authorization header, so the page asks the API
// for signed media links (GET .../media-links) and gives those URLs to the elements directly:
// the browser streams the video with range requests, as it would any file. A link opens one
// lesson or clip for a few minutes; `MediaLinks` renews them before they expire and tells the
// player, which swaps its source without losing its place. Nothing is loaded from another host
// unless the server redirects media to its own object store (allowed by the page's policy).

import { ApiError, api, el, formatTime, sleep } from "./api.js";

const RENEW_AT = 0.8; // renew when this share of a link's life has passed
const RETRY_MS = 30_000;

// The current signed links for `path` ("lessons/ID" or "clips/ID"), renewed in the background.
export class MediaLinks {
  constructor(path) {
    this.path = path;
    this.current = null;
    this.expiresAt = 0;
    this.renewAt = 0;
    this.listeners = [];
    this.timer = 0;
    document.addEventListener("visibilitychange", () => {
      // Timers sleep with the laptop: catch up as soon as the page is looked at again.
      if (document.visibilityState === "visible" && this.current && Date.now() >= this.renewAt) {
        this.renew().catch(() => {});
      }
    });
  }

  async load() {
    const links = await api(`${this.path}/media-links`);
    const now = Date.now();
    this.current = links;
    this.expiresAt = now + links.expires_in * 1000;
    this.renewAt = now + links.expires_in * 1000 * RENEW_AT;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.renew().catch(() => {}), this.renewAt - now);
    return links;
  }

  // Fetch fresh links and hand them to every listener; on failure try again shortly.
  async renew() {
    try {
      await this.load();
    } catch (error) {
      if (!(error instanceof ApiError && [401, 403, 404].includes(error.status))) {
        console.warn("Could not renew the media links; trying again.", error);
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.renew().catch(() => {}), RETRY_MS);
      }
      throw error;
    }
    for (const listener of this.listeners) listener(this.current);
    return this.current;
  }

  onRenew(listener) {
    this.listeners.push(listener);
  }

  get stale() {
    return Date.now() >= this.expiresAt - 5000;
  }
}

// Point the video at a URL and wait until it knows its duration (or fails).
export function attachVideo(video, url) {
  return new Promise((resolve, reject) => {
    const done = () => {
      video.removeEventListener("loadedmetadata", done);
      video.removeEventListener("error", failed);
      resolve();
    };
    const failed = () => {
      video.removeEventListener("loadedmetadata", done);
      video.removeEventListener("error", failed);
      reject(new Error("The video could not be played."));
    };
    video.addEventListener("loadedmetadata", done);
    video.addEventListener("error", failed);
    video.src = url;
  });
}

// Give the video a new URL for the same recording, keeping its place, speed and play state.
export function swapSource(video, url) {
  if (!url || video.currentSrc === new URL(url, location.href).href) return;
  const at = video.currentTime;
  const playing = !video.paused && !video.ended;
  const rate = video.playbackRate;
  video.addEventListener(
    "loadedmetadata",
    () => {
      video.currentTime = at;
      video.playbackRate = rate;
      if (playing) video.play().catch(() => {});
    },
    { once: true },
  );
  video.src = url;
}

// Keep the player on live links: swap in renewed ones, and renew at once if the video failed
// because its link ran out (a tab asleep past its renewal).
export function followLinks(video, links, thumbnails = null) {
  links.onRenew((fresh) => {
    swapSource(video, fresh.media);
    if (thumbnails && fresh.thumbnails) thumbnails.reload(fresh.thumbnails).catch(() => {});
  });
  video.addEventListener("error", () => {
    if (links.stale) links.renew().catch(() => {});
  });
}

// The captions track, loaded by the browser from a signed URL (cues stay once loaded).
export function attachCaptions(video, url, label = "English") {
  const track = el("track", { kind: "captions", srclang: "en", label, src: url, default: true });
  video.append(track);
  // Showing, not just loaded: captions on by default.
  track.addEventListener("load", () => {
    track.track.mode = "showing";
  });
  track.track.mode = "showing";
  return track;
}

export const RENDER_ATTEMPTS = 240; // a second apart: four minutes for a render to finish
export const PREPARING = "Preparing the clip…";
export const TOO_SLOW = "The clip is taking a long time to prepare; try again later.";

// Ask for one byte of a media URL, to learn why the video element failed.
const probeMedia = (url) => fetch(url, { headers: { Range: "bytes=0-0" }, cache: "no-store", credentials: "omit" });

// Play a clip whose MP4 is rendered on demand. While it renders the server answers 503 at once
// (with Retry-After); a <video> cannot say why it failed, so ask the same signed URL for one
// byte to learn the status: 503 waits a second and tries again, 401 renews the links, anything
// else (a share revoked while the page was open: 404) is the server's reason, shown where the
// clip plays. The captions come from the same render, so they are attached once the video
// plays. `stillWanted` says whether the page still shows this clip (another may have been
// picked meanwhile). Resolves to "playing", "abandoned", "refused" or "slow"; `io` swaps the
// browser parts for tests.
export async function playRenderedClip(video, links, { status, stillWanted = () => true, io = {} }) {
  const { attach = attachVideo, captions = attachCaptions, probe = probeMedia, wait = sleep } = io;
  const first = links.current || (await links.load());
  for (let attempt = 0; attempt < RENDER_ATTEMPTS; attempt += 1) {
    if (!stillWanted()) return "abandoned";
    try {
      await attach(video, links.current.media);
      if (!stillWanted()) return "abandoned";
      if (first.captions) captions(video, links.current.captions || first.captions);
      status("");
      return "playing";
    } catch {
      if (!stillWanted()) return "abandoned";
      const answer = await probe(links.current.media);
      if (answer.status === 401) await links.renew();
      else if (answer.status !== 503 && !answer.ok) {
        const body = await answer.json().catch(() => ({}));
        status(body.detail || answer.statusText);
        return "refused";
      }
      status(PREPARING);
      await wait(1000);
    }
  }
  if (!stillWanted()) return "abandoned";
  status(TOO_SLOW);
  return "slow";
}

// Parse a WebVTT file into cues {start, end, text}. Enough for thumbnails tracks.
export function parseVtt(text) {
  const cues = [];
  const blocks = text.replace(/\r/g, "").split(/\n\n+/);
  const stamp = (s) => {
    const parts = s.trim().split(":").map(Number);
    return parts.reduce((acc, p) => acc * 60 + p, 0);
  };
  for (const block of blocks) {
    const lines = block.split("\n").filter(Boolean);
    const timing = lines.findIndex((l) => l.includes("-->"));
    if (timing < 0) continue;
    const [a, b] = lines[timing].split("-->");
    cues.push({ start: stamp(a), end: stamp(b.trim().split(/\s+/)[0]), text: lines.slice(timing + 1).join("\n") });
  }
  return cues;
}

async function thumbnailCues(trackUrl) {
  // A signed URL: no Authorization header, and nothing kept in the HTTP cache.
  const response = await fetch(trackUrl, { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new ApiError(response.status, response.statusText);
  const base = new URL(trackUrl, location.origin);
  const cues = [];
  for (const cue of parseVtt(await response.text())) {
    const [ref, frag = ""] = cue.text.trim().split("#");
    const match = /xywh=(\d+),(\d+),(\d+),(\d+)/.exec(frag);
    if (!match) continue;
    const url = new URL(ref, base);
    if (url.origin !== location.origin) continue; // never follow a track to another host
    const [x, y, w, h] = match.slice(1).map(Number);
    // The sprite's URL carries the same signed token as the track that named it.
    cues.push({ start: cue.start, end: cue.end, url: url.pathname + url.search, x, y, w, h });
  }
  return cues;
}

// Thumbnail previews: cues pointing at tiles of a sprite (sprite.jpg#xywh=x,y,w,h).
export async function loadThumbnails(trackUrl) {
  let cues = await thumbnailCues(trackUrl);
  return {
    get cues() {
      return cues;
    },
    async reload(freshUrl) {
      cues = await thumbnailCues(freshUrl);
    },
    at(t) {
      return cues.find((c) => t >= c.start && t < c.end) || cues[cues.length - 1] || null;
    },
  };
}

// The studio's one set of controls (the video has no native ones, so there is one scrubber):
// play, time, mute, captions and full screen, kept in step with the video.
export function playerControls(video, { play, clock, mute, captions, fullscreen }) {
  const sync = () => {
    play.textContent = video.paused ? "Play" : "Pause";
    clock.textContent = `${formatTime(video.currentTime)} / ${formatTime(video.duration)}`;
    mute.textContent = video.muted ? "Unmute" : "Mute";
  };
  for (const type of ["play", "pause", "timeupdate", "loadedmetadata", "volumechange"]) {
    video.addEventListener(type, sync);
  }
  play.addEventListener("click", () => (video.paused ? video.play() : video.pause()));
  video.addEventListener("click", () => (video.paused ? video.play() : video.pause()));
  mute.addEventListener("click", () => {
    video.muted = !video.muted;
  });
  captions.addEventListener("click", () => {
    const on = captions.getAttribute("aria-pressed") !== "true";
    captions.setAttribute("aria-pressed", String(on));
    for (const track of video.textTracks) track.mode = on ? "showing" : "hidden";
  });
  fullscreen.addEventListener("click", () => {
    const box = video.closest(".player-col") || video;
    if (document.fullscreenElement) document.exitFullscreen();
    else box.requestFullscreen?.();
  });
  sync();
}

// Comments as marks along a timeline: each a button at its moment that seeks there.
export function commentMarks(container, video, onPick = () => {}) {
  let points = [];
  const draw = () => {
    container.replaceChildren();
    const d = video.duration || 0;
    if (!d) return;
    for (const p of points) {
      const mark = el("button", {
        type: "button",
        class: `comment-mark kind-${p.kind || "note"}`,
        title: `${formatTime(p.t)} · ${p.label}`,
        "aria-label": `Comment at ${formatTime(p.t)}: ${p.label}`,
        dataset: { at: String(p.t) },
      });
      mark.style.left = `${Math.min(Math.max(p.t / d, 0), 1) * 100}%`; // CSSOM: allowed by the CSP
      mark.addEventListener("click", () => {
        video.currentTime = p.t;
        onPick(p);
      });
      container.append(mark);
    }
  };
  video.addEventListener("loadedmetadata", draw);
  video.addEventListener("durationchange", draw);
  return {
    set(list) {
      points = list;
      draw();
    },
  };
}

// A scrubber under the video with a thumbnail preview on hover and a marked clip range.
export function timeline(container, video, thumbnails) {
  const scrubber = container.querySelector("input[type=range]");
  const preview = container.querySelector(".thumb-preview");
  const image = preview.querySelector(".thumb-image");
  const label = preview.querySelector(".thumb-time");
  const range = container.querySelector(".range-mark");

  const sync = () => {
    scrubber.max = String(video.duration || 0);
    scrubber.value = String(video.currentTime);
    scrubber.setAttribute("aria-valuetext", `${formatTime(video.currentTime)} of ${formatTime(video.duration)}`);
  };
  video.addEventListener("timeupdate", sync);
  video.addEventListener("loadedmetadata", sync);
  sync();
  scrubber.addEventListener("input", () => {
    video.currentTime = Number(scrubber.value);
  });

  const show = (t, x) => {
    label.textContent = formatTime(t);
    const tile = thumbnails && thumbnails.at(t);
    if (tile && tile.url) {
      image.style.width = `${tile.w}px`;
      image.style.height = `${tile.h}px`;
      image.style.backgroundImage = `url("${tile.url}")`;
      image.style.backgroundPosition = `-${tile.x}px -${tile.y}px`;
      image.hidden = false;
    } else {
      image.hidden = true;
    }
    const width = container.clientWidth;
    const half = (tile ? tile.w : 60) / 2;
    preview.style.left = `${Math.min(Math.max(x, half), width - half)}px`;
    preview.hidden = false;
  };
  const timeAt = (clientX) => {
    const box = scrubber.getBoundingClientRect();
    const fraction = Math.min(Math.max((clientX - box.left) / box.width, 0), 1);
    return { t: fraction * (video.duration || 0), x: clientX - container.getBoundingClientRect().left };
  };
  scrubber.addEventListener("pointermove", (e) => {
    const { t, x } = timeAt(e.clientX);
    show(t, x);
  });
  scrubber.addEventListener("pointerleave", () => {
    preview.hidden = true;
  });
  // Keyboard users get the preview while they move along the timeline.
  scrubber.addEventListener("keyup", () => {
    const box = scrubber.getBoundingClientRect();
    const fraction = video.duration ? video.currentTime / video.duration : 0;
    show(video.currentTime, fraction * box.width);
  });
  scrubber.addEventListener("blur", () => {
    preview.hidden = true;
  });

  return {
    markRange(start, end) {
      const d = video.duration || 0;
      if (!d || start === null || end === null) {
        range.hidden = true;
        return;
      }
      range.hidden = false;
      range.style.left = `${(start / d) * 100}%`;
      range.style.width = `${(Math.max(end - start, 0) / d) * 100}%`;
    },
  };
}

// The transcript beside the player: every word a span, the current one highlighted, a click
// seeks, and a selection of words reports its first and last word index.
// Words the model gave less than this probability are marked as unsure (the one place that
// decides; a word a person typed has probability 1, so a corrected word is never unsure).
export const UNSURE_BELOW = 0.5;

export const isUnsure = (word) => typeof word.probability === "number" && word.probability < UNSURE_BELOW;
// Whether a transcript has any unsure word, so a page shows the legend only when it applies.
export const anyUnsure = (transcript) => (transcript.segments || []).some((s) => (s.words || []).some(isUnsure));

// The interactive transcript. With `onEdit(index, segment, line)` each sentence gets a button
// to correct it (the caller swaps the line for a form).
export function transcriptView(container, video, transcript, { onSelectWords, onEdit, offset = 0 } = {}) {
  const words = [];
  container.replaceChildren();
  (transcript.segments || []).forEach((segment, segmentIndex) => {
    const line = el("p", { class: "t-line", dataset: { sentence: String(segmentIndex) } });
    const stamp = el(
      "button",
      { type: "button", class: "t-time", "aria-label": `Play from ${formatTime(segment.start - offset)}` },
      formatTime(segment.start - offset),
    );
    stamp.addEventListener("click", () => seek(segment.start));
    line.append(stamp, " ");
    const segWords = segment.words && segment.words.length
      ? segment.words
      : [{ start: segment.start, end: segment.end, text: segment.text }];
    for (const word of segWords) {
      const index = words.length;
      const unsure = isUnsure(word);
      const span = el(
        "span",
        {
          class: unsure ? "w unsure" : "w",
          dataset: { i: String(index) },
          title: unsure ? `Unsure: the model gave this word ${Math.round(word.probability * 100)} %` : null,
        },
        word.text.trim(),
      );
      words.push({ ...word, span, index });
      line.append(span, " ");
    }
    if (onEdit) {
      const edit = el(
        "button",
        { type: "button", class: "t-edit link-button", "aria-label": `Correct the sentence at ${formatTime(segment.start - offset)}` },
        "Edit",
      );
      edit.addEventListener("click", (event) => {
        event.stopPropagation();
        onEdit(segmentIndex, segment, line);
      });
      line.append(edit);
    }
    container.append(line);
  });
  if (!words.length) container.append(el("p", { class: "muted" }, "No speech was found in this recording."));

  function seek(t) {
    video.currentTime = Math.max(0, t - offset);
  }

  let current = null;
  const highlight = () => {
    const t = video.currentTime + offset;
    // Binary search for the last word starting at or before t.
    let lo = 0;
    let hi = words.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (words[mid].start <= t) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const word = found >= 0 && t <= words[found].end + 0.3 ? words[found] : null;
    if (word === current) return;
    if (current) current.span.classList.remove("current");
    current = word;
    if (word) {
      word.span.classList.add("current");
      if (!video.paused) {
        const box = container.getBoundingClientRect();
        const wordBox = word.span.getBoundingClientRect();
        if (wordBox.top < box.top || wordBox.bottom > box.bottom) {
          container.scrollTop += wordBox.top - box.top - box.height / 3;
        }
      }
    }
  };
  let frame = 0;
  const loop = () => {
    highlight();
    if (!video.paused) frame = requestAnimationFrame(loop);
  };
  video.addEventListener("play", () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(loop);
  });
  video.addEventListener("timeupdate", highlight);
  video.addEventListener("seeked", highlight);

  const wordOf = (node) => {
    const element = node && (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
    const span = element && element.closest(".w");
    return span && container.contains(span) ? words[Number(span.dataset.i)] : null;
  };

  container.addEventListener("click", (event) => {
    const selection = getSelection();
    if (selection && !selection.isCollapsed && container.contains(selection.anchorNode)) return;
    const word = wordOf(event.target);
    if (word) seek(word.start);
  });

  const reportSelection = () => {
    const selection = getSelection();
    if (!selection || selection.isCollapsed || !onSelectWords) return;
    const range = selection.getRangeAt(0);
    if (!container.contains(range.commonAncestorContainer)) return;
    const inRange = words.filter((w) => range.intersectsNode(w.span) && w.span.textContent.trim());
    // A selection that only touches the edge of a word (its last offset) does not include it.
    const first = inRange.find((w) => !(w.span.contains(range.startContainer) && range.startOffset >= (range.startContainer.textContent || "").length));
    const last = [...inRange].reverse().find((w) => !(w.span.contains(range.endContainer) && range.endOffset === 0));
    if (first && last && first.index <= last.index) onSelectWords(first, last);
  };
  container.addEventListener("mouseup", () => setTimeout(reportSelection, 0));
  container.addEventListener("keyup", (event) => {
    if (event.shiftKey) reportSelection();
  });

  return { words, seek, highlight };
}

