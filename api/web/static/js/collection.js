// A collection: its clips played in order (the next starts when one ends, or on "Next clip"),
// each clip's comments beside it while it plays.

import { ApiError, api, el, formatDate, formatTime, onReady, requireUser } from "./api.js";
import { MediaLinks, playRenderedClip, swapSource } from "./media.js";
import { commentList, consentNotice } from "./coaching.js";

const collectionId = document.body.dataset.collectionId;
const $ = (id) => document.getElementById(id);

onReady(async () => {
  await requireUser();
  const collection = await api(`collections/${collectionId}`).catch((error) => {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    return null;
  });
  if (!collection) {
    // Not shared with this person (any more), or deleted: the same answer, so ids reveal nothing.
    document.querySelector(".review").hidden = true;
    $("collection-empty").hidden = false;
    $("collection-empty").textContent = "This collection is not shared with you, or no longer exists.";
    return;
  }
  $("page-title").textContent = collection.title;
  document.title = `${collection.title} · clipcoach`;
  $("collection-meta").textContent = [
    collection.owner && `From ${collection.owner.name}`,
    `${collection.clips.length} clip${collection.clips.length === 1 ? "" : "s"}`,
    formatDate(collection.created_at),
  ].filter(Boolean).join(" · ");
  $("collection-note").textContent = collection.note || "";
  const clips = collection.clips;
  if (!clips.length) {
    document.querySelector(".review").hidden = true;
    $("collection-empty").hidden = false;
    return;
  }

  const video = $("video");
  const player = new Player(video, clips);
  const comments = commentList($("comments"), {
    load: () => api(`clips/${player.clip.id}/comments`),
    seek: (at) => {
      video.currentTime = at;
      video.focus();
    },
  });
  video.addEventListener("timeupdate", () => comments.follow(video.currentTime));

  const entries = clips.map((clip, i) => {
    const pick = el("button", { type: "button", class: "link-button" }, clip.title || `Clip ${i + 1}`);
    pick.addEventListener("click", () => show(i, true));
    return el("li", {}, pick, el("span", { class: "muted small" }, ` · ${formatTime(clip.duration)} · ${clip.lesson_title}`));
  });
  $("playlist").replaceChildren(...entries);

  async function show(index, autoplay) {
    const clip = player.select(index);
    entries.forEach((entry, i) => {
      if (i === index) entry.setAttribute("aria-current", "true");
      else entry.removeAttribute("aria-current");
    });
    $("clip-position").textContent = `Clip ${index + 1} of ${clips.length}`;
    $("clip-title").textContent = clip.title || `Clip ${index + 1}`;
    $("clip-meta").textContent = [
      clip.author && `From ${clip.author.name}`,
      clip.lesson_title && `in “${clip.lesson_title}”`,
      `${formatTime(clip.duration)} long`,
    ].filter(Boolean).join(" · ");
    $("clip-note").textContent = clip.note || "";
    $("clip-consent").textContent = consentNotice(clip.consent, clip.consent_label || clip.consent);
    $("clip-link").href = `/clips/${clip.id}`;
    $("prev-clip").disabled = index === 0;
    $("next-clip").disabled = index === clips.length - 1;
    await Promise.all([comments.refresh(), player.load($("render-status"))]);
    if (autoplay && player.clip === clip) video.play().catch(() => {});
  }

  $("prev-clip").addEventListener("click", () => show(player.index - 1, true));
  $("next-clip").addEventListener("click", () => show(player.index + 1, true));
  video.addEventListener("ended", () => {
    if (player.index < clips.length - 1) void show(player.index + 1, true);
    else $("render-status").textContent = "That was the last clip of the collection.";
  });
  await show(0, false);
});

// One <video> for every clip: each clip keeps its own signed links (renewed in the background);
// a renewal swaps the source only while its clip is the one playing.
class Player {
  constructor(video, clips) {
    this.video = video;
    this.clips = clips;
    this.index = 0;
    this.links = new Map();
  }

  get clip() {
    return this.clips[this.index];
  }

  select(index) {
    this.index = Math.max(0, Math.min(index, this.clips.length - 1));
    return this.clip;
  }

  linksOf(clip) {
    if (!this.links.has(clip.id)) {
      const links = new MediaLinks(`clips/${clip.id}`);
      links.onRenew((fresh) => {
        if (this.clip.id === clip.id) swapSource(this.video, fresh.media);
      });
      this.links.set(clip.id, links);
    }
    return this.links.get(clip.id);
  }

  // The clip's MP4 may still be rendering: wait for it (media.js) unless another clip is
  // picked meanwhile.
  async load(status) {
    const clip = this.clip;
    for (const track of this.video.querySelectorAll("track")) track.remove();
    await playRenderedClip(this.video, this.linksOf(clip), {
      status: (text) => {
        if (this.clip === clip) status.textContent = text;
      },
      stillWanted: () => this.clip === clip,
    });
  }
}
