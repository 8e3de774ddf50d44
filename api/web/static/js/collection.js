// A collection: its clips played in order (the next starts when one ends, or on "Next clip"),
// each clip's comments beside it while it plays, answered in place. Its mentor also edits its
// title and note, changes the order, removes clips, shares it, stops sharing it or deletes it.

import { ApiError, api, el, formatDate, formatTime, onReady, requireUser, toast } from "./api.js";
import { MediaLinks, playRenderedClip, swapSource } from "./media.js";
import { commentList, consentNotice } from "./coaching.js";

const collectionId = document.body.dataset.collectionId;
const $ = (id) => document.getElementById(id);

onReady(async () => {
  const me = await requireUser();
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
  if (collection.owner?.id === me.id) manage(collection, me);
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
    // A reply answers the comment at its moment, as on the clip's own page.
    reply: async (comment, body) => {
      await api(`clips/${player.clip.id}/comments`, {
        method: "POST",
        json: { body, parent_id: comment.id, at: comment.at, kind: "note" },
      });
      toast("Reply sent.");
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

// The mentor's part of the page. Every change goes through the API and the page is drawn again
// from its answer, so what is shown is what the ECT now gets.
function manage(collection, me) {
  $("collection-manage").hidden = false;
  const done = (message) => {
    toast(message);
    setTimeout(() => location.reload(), 600);
  };
  $("edit-title").value = collection.title;
  $("edit-note").value = collection.note || "";
  $("collection-edit").addEventListener("submit", async (event) => {
    event.preventDefault();
    const title = $("edit-title").value.trim();
    if (!title) return $("edit-title").focus();
    await api(`collections/${collection.id}`, { method: "PATCH", json: { title, note: $("edit-note").value } });
    done("Title and note saved.");
  });

  const ids = collection.clips.map((c) => c.id);
  const saveOrder = async (next, message) => {
    await api(`collections/${collection.id}/items`, { method: "PUT", json: { clip_ids: next } });
    done(message);
  };
  $("order-list").replaceChildren(...collection.clips.map((clip, i) => {
    const name = clip.title || `Clip ${i + 1}`;
    const move = (to) => {
      const next = [...ids];
      next.splice(i, 1);
      next.splice(to, 0, clip.id);
      return saveOrder(next, "Order saved.");
    };
    const up = el("button", { type: "button", class: "small-button", "aria-label": `Move “${name}” earlier`, disabled: i === 0 }, "Earlier");
    const down = el("button", { type: "button", class: "small-button", "aria-label": `Move “${name}” later`, disabled: i === ids.length - 1 }, "Later");
    const remove = el("button", { type: "button", class: "small-button danger", "aria-label": `Remove “${name}” from the collection` }, "Remove");
    up.addEventListener("click", () => move(i - 1));
    down.addEventListener("click", () => move(i + 1));
    remove.addEventListener("click", () => {
      if (!confirm(`Remove “${name}” from the collection? Your ECT stops seeing it here.`)) return;
      void saveOrder(ids.filter((id) => id !== clip.id), "Clip removed.");
    });
    return el("li", {},
      el("span", { class: "order-title" }, name, el("span", { class: "muted small" }, ` · ${formatTime(clip.duration)} · ${clip.lesson_title}`)),
      el("span", { class: "actions" }, up, down, remove));
  }));
  if (!ids.length) $("order-list").append(el("li", { class: "muted" }, "No clips left in this collection."));

  const shared = collection.shared_with;
  $("share-list").replaceChildren(...shared.map((s) => {
    const stop = el("button", { type: "button", class: "small-button danger", "aria-label": `Stop sharing with ${s.recipient.name}` }, "Stop sharing");
    stop.addEventListener("click", async () => {
      if (!confirm(`Stop sharing this collection with ${s.recipient.name}? They lose it at once.`)) return;
      await api(`collections/${collection.id}/shares/${s.recipient.id}`, { method: "DELETE" });
      done(`No longer shared with ${s.recipient.name}.`);
    });
    return el("li", {},
      el("span", {}, s.recipient.name, el("span", { class: "muted small" }, ` · since ${formatDate(s.created_at)}${s.until ? ` · until ${formatDate(s.until)}` : ""}`)),
      stop);
  }));
  if (!shared.length) $("share-list").append(el("li", { class: "muted" }, "Not shared: only you see it."));
  const others = (me.paired_with || []).filter((e) => !shared.some((s) => s.recipient.id === e.id));
  if (others.length && ids.length) {
    $("collection-share").hidden = false;
    $("share-ect").replaceChildren(...others.map((e) => el("option", { value: e.id }, e.name)));
    $("collection-share").addEventListener("submit", async (event) => {
      event.preventDefault();
      await api(`collections/${collection.id}/shares`, { method: "POST", json: { ect_id: $("share-ect").value } });
      done("Collection shared.");
    });
  }
  $("delete-collection").addEventListener("click", async () => {
    if (!confirm(`Delete “${collection.title}”? ${shared.length ? "It stops being shared at once. " : ""}The clips themselves stay.`)) return;
    await api(`collections/${collection.id}`, { method: "DELETE" });
    toast("Collection deleted.");
    location.assign("/");
  });
}

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
