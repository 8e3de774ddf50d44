// Reviewing a clip: the clip video with captions, what was said (unsure words marked), its strand
// tags, comments at their moments, and the talk in the clip (the studio's timeline and figures,
// timed from the clip's start).

import { ApiError, api, el, formatDate, formatTime, onReady, requireUser, toast } from "./api.js";
import { MediaLinks, anyUnsure, commentMarks, followLinks, playRenderedClip, transcriptView } from "./media.js";
import { commentList, consentNotice, items, strandLabel } from "./coaching.js";
import { talkPanel } from "./talk.js";

const clipId = document.body.dataset.clipId;
const $ = (id) => document.getElementById(id);

onReady(async () => {
  await requireUser();
  const clip = await api(`clips/${clipId}`).catch((error) => {
    // 404 clip_not_found: not shared with this person (any more), or deleted; one answer for
    // both, so a clip's address tells nobody it exists.
    if (!(error instanceof ApiError) || error.code !== "clip_not_found") throw error;
    return null;
  });
  if (!clip) {
    showMissing();
    return;
  }
  $("page-title").textContent = clip.title || "Clip";
  document.title = `${$("page-title").textContent} · clipcoach`;
  $("clip-meta").textContent = [
    clip.author && `From ${clip.author.name}`,
    clip.lesson_title && `in “${clip.lesson_title}”`,
    `${formatTime(clip.end - clip.start)} long`,
    clip.created_at && formatDate(clip.created_at),
  ].filter(Boolean).join(" · ");
  $("clip-note").textContent = clip.note || "";
  $("clip-consent").textContent = consentNotice(clip.consent, clip.consent_label);

  const video = $("video");
  const select = $("reply-to");
  // Which comment a reply answers: the one the person last clicked or picked; until then the
  // first comment (usually the only one), or a new reflection when there is none.
  const replyTo = (id) => {
    select.value = id;
    select.dataset.picked = "yes";
    for (const node of $("comments").querySelectorAll(":scope > .comment")) {
      node.classList.toggle("reply-target", node.dataset.commentId === id);
    }
  };
  const marks = commentMarks($("comment-marks"), video, (point) => replyTo(point.id));
  const comments = commentList($("comments"), {
    load: () => api(`clips/${clipId}/comments`),
    seek: (at, comment) => {
      video.currentTime = at;
      video.focus();
      if (comment) replyTo(comment.id);
    },
    onRender(threads) {
      marks.set(threads.map((c) => ({ t: c.at, label: c.body, kind: c.kind, id: c.id })));
      const keep = select.value;
      select.replaceChildren(el("option", { value: "" }, "The clip (a new reflection)"));
      for (const c of threads) {
        const excerpt = c.body.length > 40 ? `${c.body.slice(0, 40)}…` : c.body;
        const when = c.kind === "reflection" && !c.at ? "Whole clip" : formatTime(c.at);
        select.append(el("option", { value: c.id, dataset: { at: String(c.at) } }, `${when} · ${excerpt}`));
      }
      if (select.dataset.picked && [...select.options].some((o) => o.value === keep)) replyTo(keep);
      else if (threads.length) select.value = threads[0].id;
    },
  });
  video.addEventListener("timeupdate", () => comments.follow(video.currentTime));
  select.addEventListener("change", () => replyTo(select.value));

  const tags = items(await api(`clips/${clipId}/tags`));
  for (const tag of tags) {
    const strand = tag;
    $("tags").append(el("li", { class: "chip", title: strand.title }, el("span", { class: "code" }, strand.code), ` ${strand.title || ""}`));
  }
  if (!tags.length) $("tags").append(el("li", { class: "muted" }, "No strands tagged."));

  $("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = $("reply-body").value.trim();
    if (!body) {
      $("reply-body").focus();
      return;
    }
    const parent = select.value;
    const at = parent ? Number(select.selectedOptions[0].dataset.at) : Math.round(video.currentTime * 10) / 10;
    await api(`clips/${clipId}/comments`, {
      method: "POST",
      json: parent ? { body, parent_id: parent, at, kind: "note" } : { body, at, kind: "reflection" },
    });
    $("reply-body").value = "";
    toast("Reply sent.");
    await comments.refresh();
  });

  await Promise.all([
    comments.refresh(),
    loadMedia(video, clip),
    showTranscript(video),
    talkPanel($("talk-strip"), $("talk-card"), video, `clips/${clipId}`).catch(() => null),
  ]);
});

function showMissing() {
  $("page-title").textContent = "This clip is not available to you";
  document.title = `${$("page-title").textContent} · clipcoach`;
  for (const part of document.querySelectorAll(".review, #clip-consent, #clip-meta")) part.hidden = true;
  $("clip-missing").hidden = false;
}

// The clip's words, timed from its start: a 409 (no sound, switched off, consent) says why there
// are none, in the server's words.
async function showTranscript(video) {
  const container = $("clip-transcript");
  try {
    const doc = await api(`clips/${clipId}/transcript`);
    transcriptView(container, video, doc);
    $("unsure-legend").hidden = !anyUnsure(doc);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status === 401) throw error;
    container.replaceChildren(el("p", { class: "muted" }, error.message));
  }
}

// The clip's MP4 is rendered on demand; the player waits for it (media.js) and then follows
// the renewed links.
async function loadMedia(video, clip) {
  const status = $("render-status");
  const links = new MediaLinks(`clips/${clip.id}`);
  const shown = await playRenderedClip(video, links, { status: (text) => { status.textContent = text; } });
  if (shown === "playing") followLinks(video, links);
}

export { strandLabel };
