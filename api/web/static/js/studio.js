// The clipping studio: watch the lesson, mark a range, save, tag, comment and share. A mentor
// clips an ECT's lesson to coach; the ECT clips their own to reflect, privately until they
// share it with their mentor.

import { api, el, formatDate, formatTime, onReady, requireUser, toast } from "./api.js";
import {
  MediaLinks,
  attachCaptions,
  attachVideo,
  followLinks,
  loadThumbnails,
  timeline,
  commentMarks,
  playerControls,
  transcriptView,
  anyUnsure,
} from "./media.js";
import { failureReason, retentionNotice, shareDeletionNote, stageName, transcriptRetentionNotice, watchLesson } from "./lessons.js";
import { commentList, consentNotice, items, researchNotice, strandLabel, suggestionLabel } from "./coaching.js";
import { talkPanel } from "./talk.js";

const lessonId = document.body.dataset.lessonId;
const $ = (id) => document.getElementById(id);

const state = {
  in: null, out: null, wordStart: null, wordEnd: null, clip: null, lesson: null,
  picked: new Set(), // strands chosen from the range's suggestions, tagged when the clip is saved
  tagIds: new Set(),
};
const frameworkId = () => $("framework").value || "ecf-2019";

// Suggested strands as chips, each with why; `onPick` runs on a click (nothing is tagged
// before the person clicks).
function showStrandSuggestions(list, found, { pressed = () => false, onPick }) {
  list.replaceChildren();
  for (const s of found) {
    const chip = el("button", {
      type: "button", class: "chip", title: s.title, "aria-pressed": String(pressed(s)),
      "aria-label": `Tag ${strandLabel(s)} (suggested)`,
    }, suggestionLabel(s));
    chip.addEventListener("click", () => onPick(s, chip));
    list.append(el("li", { class: "suggestion" }, chip, el("span", { class: "why" }, s.why)));
  }
}

onReady(async () => {
  const me = await requireUser();
  let lesson = await api(`lessons/${lessonId}`);
  state.lesson = lesson;
  $("page-title").textContent = lesson.title || lesson.source_filename || "Lesson";
  document.title = `${$("page-title").textContent} · clipcoach`;
  showConsent(lesson, me);
  showRetention(lesson);
  if (lesson.status !== "ready") {
    lesson = await showProcessing();
    if (lesson.status === "failed") return;
  }
  $("lesson-meta").textContent = [
    lesson.duration && `${formatTime(lesson.duration)} long`,
    lesson.created_at && `uploaded ${formatDate(lesson.created_at)}`,
  ].filter(Boolean).join(" · ");
  $("studio").hidden = false;
  // The lesson's owner reflects on it; a mentor paired with them coaches (the API decides).
  const canClip = lesson.owner_id === me.id || me.role === "mentor";
  $("clip-form").hidden = !canClip;
  if (lesson.owner_id === me.id) {
    $("clip-form-heading").textContent = "Save a clip for your reflection";
    $("clip-form-help").hidden = false;
  }
  if (lesson.status !== "ready") {
    await openWhileConverting(lesson, me);
    return;
  }
  await setUpPlayer(lesson, me);
});

// The transcript is ready but the video is still being converted: a usable page already.
const usableEarly = (lesson) => Boolean(lesson.parts && lesson.parts.transcript && !lesson.parts.video);

async function showProcessing() {
  $("status-card").hidden = false;
  const final = await watchLesson(
    lessonId,
    (lesson) => {
      $("status-progress").value = lesson.progress || 0;
      $("status-text").textContent =
        lesson.status === "queued" ? "Waiting for a worker…" : `${stageName(lesson.stage)}… ${lesson.progress || 0}%`;
    },
    usableEarly,
  );
  if (final.status === "failed") {
    $("status-error").textContent = `Processing failed. ${failureReason(final)}`;
    $("status-error").hidden = false;
    $("status-text").textContent = "";
  } else {
    $("status-card").hidden = true;
  }
  return final;
}

// Transcript, poster and thumbnails now; the page reloads with the video once it is stored.
// Clips wait for the video: a clip is cut from the browser copy.
async function openWhileConverting(lesson, me) {
  const notice = $("converting-notice");
  const show = (current) => {
    const percent = Math.floor(100 * ((current.parts && current.parts.video_progress) || 0));
    notice.textContent = `Video converting: ${percent} %. The transcript is ready to read; clips can be made once the video is ready.`;
  };
  notice.hidden = false;
  $("clip-form").hidden = true;
  show(lesson);
  await setUpPlayer(lesson, me);
  const final = await watchLesson(lessonId, show);
  if (final.status === "ready") location.reload();
  else notice.textContent = `Processing failed: ${final.error_message || final.error_code}`;
}

async function setUpPlayer(lesson, me) {
  const video = $("video");
  const base = `lessons/${lessonId}`;
  // Signed links let the <video>, <track> and sprite images load straight from the API.
  const links = new MediaLinks(base);
  const media = await links.load();
  if (media.poster) video.poster = media.poster;
  if (media.captions) attachCaptions(video, media.captions);
  const [transcript, thumbnails] = await Promise.all([
    api(`${base}/transcript?format=json`).catch(() => ({ segments: [] })),
    media.thumbnails ? loadThumbnails(media.thumbnails).catch(() => null) : null,
    media.media ? attachVideo(video, media.media) : null,
  ]);
  followLinks(video, links, thumbnails);
  const line = timeline($("timeline"), video, thumbnails);
  playerControls(video, {
    play: $("play"), clock: $("clock"), mute: $("mute"), captions: $("captions-toggle"), fullscreen: $("fullscreen"),
  });
  marks = commentMarks($("comment-marks"), video);
  const clipMoment = (start, end, what) => {
    const d = video.duration || end;
    setRange(Math.max(0, start - 2), Math.min(d, end + 2));
    video.currentTime = Math.max(0, start - 2);
    $("range-note").textContent = `Range set around: ${what}. Give the clip a title and save it.`;
    $("clip-title").focus();
  };
  talkPanel($("talk-strip"), $("talk-card"), video, base, {
    onClip: $("clip-form").hidden ? null : clipMoment,
  }).catch(() => {});

  const onSelectWords = (first, last) => {
    setRange(first.start, last.end, first.index, last.index);
    $("range-note").textContent = `Selected “${first.text.trim()} … ${last.text.trim()}” (${last.index - first.index + 1} words).`;
  };
  // The lesson's owner and their mentor correct the transcript; the server checks as well.
  const canEdit = lesson.owner_id === me.id || me.role === "mentor";
  let showSuggestions = async () => {};
  const editor = canEdit
    ? await transcriptEditor(base, video, links, (fresh) => {
      show(fresh);
      showSuggestions().catch(() => {});
    })
    : null;
  let words = [];
  const show = (doc) => {
    words = transcriptView($("transcript"), video, doc, { onSelectWords, onEdit: editor ? editor.edit : null });
    $("unsure-legend").hidden = !anyUnsure(doc);
    $("transcript-help").textContent = canEdit
      ? "Click a word to jump there; select words to set the clip; Edit corrects a sentence."
      : "Click a word to jump there; select words to set the clip.";
  };
  show(transcript);
  const startAt = Number(new URLSearchParams(location.search).get("t"));
  if (Number.isFinite(startAt) && startAt > 0) video.currentTime = startAt;

  function setRange(start, end, wordStart = null, wordEnd = null) {
    state.in = start;
    state.out = end;
    state.wordStart = wordStart;
    state.wordEnd = wordEnd;
    $("in-time").textContent = start === null ? "–" : formatTime(start);
    $("out-time").textContent = end === null ? "–" : formatTime(end);
    line.markRange(start, end);
    suggestForRange();
  }
  // While a range is selected, the strands its words and talk figures suggest (asked a moment
  // after the range stops changing; an answer for an older range is dropped).
  let rangeTimer = 0;
  let rangeSeq = 0;
  function suggestForRange() {
    clearTimeout(rangeTimer);
    const seq = ++rangeSeq;
    state.picked.clear();
    const box = $("range-suggestions-box");
    if ($("clip-form").hidden || state.in === null || state.out === null || state.out - state.in < 1) {
      box.hidden = true;
      return;
    }
    const [start, end] = [state.in, state.out];
    rangeTimer = setTimeout(async () => {
      const q = `start=${start.toFixed(3)}&end=${end.toFixed(3)}&framework=${encodeURIComponent(frameworkId())}`;
      const found = items(await api(`${base}/suggested-strands?${q}`).catch(() => []));
      if (seq !== rangeSeq) return;
      box.hidden = !found.length;
      showStrandSuggestions($("range-suggestions"), found, {
        pressed: (s) => state.picked.has(s.strand_id),
        onPick: (s, chip) => {
          if (state.picked.has(s.strand_id)) state.picked.delete(s.strand_id);
          else state.picked.add(s.strand_id);
          chip.setAttribute("aria-pressed", String(state.picked.has(s.strand_id)));
        },
      });
    }, 300);
  }
  const markIn = () => {
    const t = video.currentTime;
    setRange(t, state.out !== null && state.out > t ? state.out : null);
    $("range-note").textContent = `In at ${formatTime(t)}.`;
  };
  const markOut = () => {
    const t = video.currentTime;
    setRange(state.in !== null && state.in < t ? state.in : 0, t);
    $("range-note").textContent = `Out at ${formatTime(t)}.`;
  };
  let stopAt = null;
  const preview = () => {
    if (state.in === null || state.out === null) {
      $("range-note").textContent = "Mark in and out first.";
      return;
    }
    video.currentTime = state.in;
    stopAt = state.out;
    video.play();
  };
  video.addEventListener("timeupdate", () => {
    if (stopAt !== null && video.currentTime >= stopAt) {
      video.pause();
      stopAt = null;
    }
    if (state.clip) {
      $("comment-at").textContent = formatTime(clipTime(video.currentTime));
    }
  });
  video.addEventListener("seeking", () => {
    if (stopAt !== null && (video.currentTime < state.in - 0.5 || video.currentTime > stopAt)) stopAt = null;
  });
  $("mark-in").addEventListener("click", markIn);
  $("mark-out").addEventListener("click", markOut);
  void setUpBlanking(lesson, me);
  $("preview-clip").addEventListener("click", preview);
  $("clear-range").addEventListener("click", () => {
    setRange(null, null);
    $("range-note").textContent = "Range cleared.";
  });
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const key = event.key.toLowerCase();
    if (key === "i") markIn();
    else if (key === "o") markOut();
    else if (key === "p") preview();
    else if (key === "k" || (key === " " && event.target === document.body)) {
      if (video.paused) video.play();
      else video.pause();
    } else if (key === "j") video.currentTime = Math.max(0, video.currentTime - 5);
    else if (key === "l") video.currentTime = Math.min(video.duration, video.currentTime + 5);
    else return;
    event.preventDefault();
  });

  // Suggested clips from the pipeline (made again when the transcript is corrected): pick one
  // to start from.
  showSuggestions = async () => {
    const segments = items(await api(`${base}/segments`).catch(() => []));
    const list = $("segments");
    list.replaceChildren();
    for (const seg of segments) {
      const button = el(
        "button",
        { type: "button", class: "segment" },
        el("strong", {}, seg.title || "Untitled"),
        el("span", { class: "muted small" }, ` ${formatTime(seg.start)}–${formatTime(seg.end)}`),
        seg.text ? el("span", { class: "excerpt" }, seg.text) : null,
      );
      button.addEventListener("click", () => {
        setRange(seg.start, seg.end);
        video.currentTime = seg.start;
        if (!$("clip-title").value) $("clip-title").value = seg.title || "";
        $("range-note").textContent = `Starting from the suggestion “${seg.title || "Untitled"}”.`;
      });
      list.append(el("li", {}, button));
    }
    if (!segments.length) list.append(el("li", { class: "muted" }, "No suggestions for this lesson."));
  };
  await Promise.all([showSuggestions(), listLessonClips(), setUpLessonComments(video)]);

  $("clip-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("clip-error");
    error.hidden = true;
    if (state.in === null || state.out === null) {
      error.textContent = "Mark in and out (or select words in the transcript) first.";
      error.hidden = false;
      return;
    }
    const title = $("clip-title").value.trim();
    if (!title) {
      error.textContent = "Give the clip a title.";
      error.hidden = false;
      $("clip-title").focus();
      return;
    }
    const body = { lesson_id: lessonId, title, note: $("clip-note").value.trim() };
    if (state.wordStart !== null) {
      body.word_start = state.wordStart;
      body.word_end = state.wordEnd;
    } else {
      body.start = Math.round(state.in * 1000) / 1000;
      body.end = Math.round(state.out * 1000) / 1000;
    }
    try {
      const picked = [...state.picked];
      const clip = await api("clips", { method: "POST", json: body });
      if (picked.length) await api(`clips/${clip.id}/tags`, { method: "POST", json: { strand_ids: picked } });
      toast(picked.length ? `Clip saved and tagged with ${picked.length} suggested strand${picked.length > 1 ? "s" : ""}.` : "Clip saved.");
      // The next clip starts from a clean form: a note never carries over to another moment.
      $("clip-title").value = "";
      $("clip-note").value = "";
      setRange(null, null);
      $("range-note").textContent = `Saved “${clip.title}”. Mark a new range for the next clip.`;
      await openClip(clip, me);
      await listLessonClips();
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });

  setUpClipPanel(me, words);
}

// Correcting sentences: each save is a new transcript version (the server keeps the times of
// the words left alone); the transcript, and the captions the player shows, are then reloaded.
async function transcriptEditor(base, video, links, reload) {
  let version = 1;
  const refreshCaptions = async () => {
    for (const track of video.querySelectorAll("track[kind=captions]")) track.remove();
    const fresh = await links.load();
    if (fresh.captions) attachCaptions(video, fresh.captions);
  };
  const how = (v) => (v.kind === "correction" ? `corrected by ${v.author ? v.author.name : "someone"}`
    : v.kind === "revert" ? `back to version ${v.reverted_from}` : `transcribed (${v.model})`);
  // The versions, newest first; any earlier one can be made the newest again.
  const listVersions = async () => {
    const versions = await api(`${base}/transcriptions`).catch(() => []);
    version = (versions.find((v) => v.current) || {}).number || version;
    const list = $("versions");
    list.replaceChildren();
    for (const v of [...versions].reverse()) {
      const item = el("li", {}, `Version ${v.number}: ${how(v)}${v.current ? " (current)" : ""} `);
      if (!v.current && v.ready) {
        item.append(el("button", {
          type: "button", class: "link-button",
          onclick: async () => {
            try {
              const saved = await api(`${base}/transcript/reverts`, { method: "POST", json: { version: v.number } });
              await after(saved);
            } catch (e) {
              toast(e.message);
            }
          },
        }, `Go back to version ${v.number}`));
      }
      list.append(item);
    }
    $("versions-box").hidden = versions.length < 2;
  };
  const after = async (saved) => {
    version = saved.number;
    reload(await api(`${base}/transcript?format=json`));
    await refreshCaptions();
    await listVersions();
    toast(`Saved as transcript version ${version}.`);
  };
  await listVersions();
  return {
    edit(index, segment, line) {
      const input = el("input", {
        type: "text", class: "t-input", value: segment.text.trim(), maxlength: "5000",
        "aria-label": `Corrected sentence at ${formatTime(segment.start)}`,
      });
      const error = el("p", { class: "error", role: "alert", hidden: true });
      const cancel = el("button", { type: "button", class: "link-button" }, "Cancel");
      const form = el("form", { class: "t-edit-form" }, input, el("button", { type: "submit", class: "primary" }, "Save"), cancel, error);
      cancel.addEventListener("click", () => form.replaceWith(line));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          const saved = await api(`${base}/transcript/corrections`, {
            method: "POST",
            json: { version, sentences: [{ index, text: input.value }] },
          });
          await after(saved);
        } catch (e) {
          error.textContent = e.message;
          error.hidden = false;
        }
      });
      line.replaceWith(form);
      input.focus();
    },
  };
}

async function listLessonClips() {
  const clips = items(await api(`clips?lesson_id=${lessonId}`).catch(() => []));
  const list = $("lesson-clips");
  list.replaceChildren();
  for (const clip of clips) {
    const mine = clip.author?.id === panelMe?.id;
    const edit = el("button", { type: "button", class: "segment" },
      el("strong", {}, clip.title || "Untitled"),
      el("span", { class: "muted small" }, ` ${formatTime(clip.start)}–${formatTime(clip.end)}`),
      clip.reflection ? el("span", { class: "badge" }, mine ? "Your reflection" : `${clip.author?.name || "ECT"}'s reflection`) : null);
    edit.addEventListener("click", async () => openClip(await api(`clips/${clip.id}`)));
    list.append(el("li", {}, edit));
  }
  if (!clips.length) list.append(el("li", { class: "muted" }, "None yet."));
}

// Comments on the whole lesson, at moments of it: click one to watch from there.
async function setUpLessonComments(video) {
  const path = `lessons/${lessonId}/comments`;
  $("lesson-comments").setAttribute("aria-busy", "true");
  const list = commentList($("lesson-comments"), {
    load: () => api(path),
    seek: (at) => {
      video.currentTime = at;
    },
    reply: (parent, body) => api(path, { method: "POST", json: { body, parent_id: parent.id, at: parent.at, kind: "note" } }),
  });
  video.addEventListener("timeupdate", () => {
    $("lesson-comment-at").textContent = formatTime(video.currentTime);
    list.follow(video.currentTime);
  });
  $("lesson-comment-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = $("lesson-comment-body").value.trim();
    if (!body) return;
    const at = Math.round(video.currentTime * 10) / 10;
    await api(path, { method: "POST", json: { at, kind: $("lesson-comment-kind").value, body } });
    $("lesson-comment-body").value = "";
    toast("Comment added.");
    await list.refresh();
  });
  await list.refresh();
  $("lesson-comments").removeAttribute("aria-busy");
}

// The strands a new action step can name: the open clip's tags, all ticked to begin with.
function stepStrands(tags) {
  const box = $("step-strands");
  box.replaceChildren();
  for (const tag of tags) {
    const id = `step-strand-${tag.strand_id.replace(/[^a-z0-9]/gi, "-")}`;
    box.append(el("div", { class: "check" },
      el("input", { type: "checkbox", id, value: tag.strand_id, checked: true }),
      el("label", { for: id }, el("span", { class: "code" }, tag.code), ` ${tag.title || ""}`)));
  }
  if (!tags.length) box.append(el("p", { class: "muted small" }, "Tag the clip with a strand first (above)."));
}

function setUpStepForm() {
  const week = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10);
  $("step-target").value = week;
  $("step-target").min = new Date().toISOString().slice(0, 10);
  $("step-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("step-error");
    error.hidden = true;
    const instruction = $("step-instruction").value.trim();
    const strandIds = [...$("step-strands").querySelectorAll("input:checked")].map((i) => i.value);
    const problem = !instruction ? "Write the action step." : !strandIds.length ? "Choose at least one strand." : !$("step-target").value ? "Choose a target date." : "";
    if (problem) {
      error.textContent = problem;
      error.hidden = false;
      return;
    }
    try {
      await api("action-steps", {
        method: "POST",
        json: {
          ect_id: state.lesson.owner_id,
          instruction,
          strand_ids: strandIds,
          clip_ids: [state.clip.id],
          target_date: $("step-target").value,
        },
      });
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      return;
    }
    $("step-instruction").value = "";
    toast(`Action step set for ${state.ownerName || "the ECT"}.`);
  });
}

const clipTime = (lessonTime) =>
  state.clip ? Math.min(Math.max(lessonTime - state.clip.start, 0), state.clip.end - state.clip.start) : 0;

let panelMe = null;
let marks = null;
let comments = null;

async function openClip(clip, me = panelMe) {
  state.clip = clip;
  $("clip-panel").hidden = false;
  $("clip-panel-title").textContent = clip.title;
  $("clip-page-link").href = `/clips/${clip.id}`;
  $("video").currentTime = clip.start;
  $("comment-at").textContent = formatTime(0);
  // Who may do what to this clip: its author tags it; a mentor's clip goes to the ECT, an
  // ECT's own goes to their mentor; a mentor reading a shared reflection only comments.
  const mine = clip.author?.id === me?.id;
  const canTag = clip.reflection ? mine : me?.role === "mentor";
  $("tag-picker").hidden = !canTag;
  $("share-section").hidden = !canTag;
  $("share-form").hidden = clip.reflection || !state.ownerName;
  $("share-mentor-form").hidden = !(clip.reflection && mine);
  // A mentor sets the ECT's next action step from any clip of the ECT's lesson they see.
  const setsSteps = me?.role === "mentor" && state.lesson.owner_id !== me.id;
  $("step-form").hidden = !setsSteps;
  $("step-for").textContent = state.ownerName || "the ECT";
  $("step-error").hidden = true;
  $("reflection-note").hidden = !clip.reflection;
  $("reflection-note").textContent = mine
    ? "Your own clip: private to you until you share it with your mentor."
    : `${clip.author?.name || "Your ECT"} chose to share this reflection with you.`;
  $("clip-suggestions-box").hidden = true;
  await Promise.all([refreshTags(), comments.refresh(), canTag ? refreshShares() : null]);
  if (canTag) await refreshClipSuggestions();
  $("clip-panel").scrollIntoView({ block: "nearest" });
  void me;
}

function setUpClipPanel(me, words) {
  panelMe = me;
  setUpStepForm();
  void words;
  comments = commentList($("comments"), {
    load: () => api(`clips/${state.clip.id}/comments`),
    seek: (at) => {
      $("video").currentTime = state.clip.start + at;
    },
    reply: (parent, body) =>
      api(`clips/${state.clip.id}/comments`, { method: "POST", json: { body, parent_id: parent.id, at: parent.at, kind: "note" } }),
    // The open clip's comments stand on the lesson's timeline at their moments.
    onRender: (threads) => marks?.set(threads.map((c) => ({ t: state.clip.start + c.at, label: c.body, kind: c.kind }))),
  });

  // Strand picker: choose a framework, search its strands, add one as a tag.
  const frameworks = $("framework");
  api("frameworks").then((list) => {
    for (const fw of items(list)) frameworks.append(el("option", { value: fw.id }, `${fw.name} (${fw.version})`));
    search();
  });
  // Results always belong to the query shown: typing hides the old ones at once, and an answer
  // that arrives after a newer query was sent is dropped, so a click can never tag a strand
  // found for the previous words.
  let searchTimer = 0;
  let searchSeq = 0;
  const results = $("strand-results");
  const pending = () => {
    results.setAttribute("aria-busy", "true");
    results.replaceChildren(el("li", { class: "muted" }, "Searching…"));
  };
  const search = async () => {
    const q = $("strand-search").value.trim();
    const fw = frameworks.value;
    if (!fw) return;
    const seq = ++searchSeq;
    pending();
    let found;
    try {
      found = items(await api(`frameworks/${encodeURIComponent(fw)}/strands?kind=learn_how&q=${encodeURIComponent(q)}`));
    } catch (e) {
      if (seq === searchSeq) results.replaceChildren(el("li", { class: "error" }, e.message));
      return;
    }
    if (seq !== searchSeq) return;
    results.removeAttribute("aria-busy");
    results.replaceChildren();
    for (const strand of found.slice(0, 30)) {
      const add = el("button", { type: "button", class: "result", "aria-label": `Tag ${strandLabel(strand)}`, title: strand.title },
        el("span", { class: "code" }, strand.code), " ", strand.title);
      add.addEventListener("click", async () => {
        await api(`clips/${state.clip.id}/tags`, { method: "POST", json: { strand_ids: [strand.id] } });
        toast(`Tagged ${strand.code}: ${strand.title}.`);
        await refreshTags();
      });
      results.append(el("li", {}, add));
    }
    if (!found.length) results.append(el("li", { class: "muted" }, `No strands match “${q}”.`));
  };
  frameworks.addEventListener("change", search);
  $("strand-search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchSeq++; // whatever is in flight now answers an older query
    pending();
    searchTimer = setTimeout(search, 200);
  });

  $("comment-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = $("comment-body").value.trim();
    if (!body || !state.clip) return;
    const at = Math.round(clipTime($("video").currentTime) * 10) / 10;
    await api(`clips/${state.clip.id}/comments`, {
      method: "POST",
      json: { at, kind: $("comment-kind").value, body },
    });
    $("comment-body").value = "";
    toast("Comment added.");
    await comments.refresh();
  });

  $("share-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state.clip) return;
    const body = {};
    const until = $("share-until").value;
    if (until) body.until = `${until}T23:59:59Z`;
    await api(`clips/${state.clip.id}/shares`, { method: "POST", json: body });
    toast("Shared.");
    await refreshShares();
  });
  $("share-mentor-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state.clip) return;
    try {
      const shares = await api(`clips/${state.clip.id}/share-with-mentor`, { method: "POST", json: {} });
      toast(`Shared with ${shares.map((s) => s.recipient.name).join(" and ")}.`);
    } catch (e) {
      toast(e.message);
    }
    await refreshShares();
  });
  fillRecipient(me);
}

// A share always goes to the lesson's owner: name them from the mentor's pairings.
function fillRecipient(me) {
  if (state.lesson.owner_id === me.id) {
    const mentors = (me.paired_with || []).map((u) => u.name);
    $("share-mentor-to").textContent = mentors.length ? mentors.join(" and ") : "your mentor (none yet)";
    return;
  }
  const owner = (me.paired_with || []).find((u) => u.id === state.lesson.owner_id);
  $("share-to").textContent = owner ? owner.name : "the lesson's ECT";
  state.ownerName = owner ? owner.name : "";
  $("share-form").hidden = !owner;
  if (owner) $("lesson-meta").textContent = `Taught by ${owner.name} · ${$("lesson-meta").textContent}`;
}

// The open clip's suggested strands not yet tagged; one click tags one (the usual tag route).
async function refreshClipSuggestions() {
  const clip = state.clip;
  const found = items(await api(`clips/${clip.id}/suggested-strands?framework=${encodeURIComponent(frameworkId())}`).catch(() => []));
  if (state.clip !== clip) return;
  const open = found.filter((s) => !state.tagIds.has(s.strand_id));
  $("clip-suggestions-box").hidden = !open.length;
  showStrandSuggestions($("clip-suggestions"), open, {
    onPick: async (s) => {
      await api(`clips/${clip.id}/tags`, { method: "POST", json: { strand_ids: [s.strand_id] } });
      toast(`Tagged ${s.code}: ${s.title}.`);
      await refreshTags();
      await refreshClipSuggestions();
    },
  });
}

async function refreshTags() {
  const tags = items(await api(`clips/${state.clip.id}/tags`));
  state.tagIds = new Set(tags.map((t) => t.strand_id));
  stepStrands(tags);
  const list = $("clip-tags");
  list.replaceChildren();
  for (const tag of tags) {
    const strand = tag;
    const id = tag.strand_id;
    const remove = el("button", { type: "button", class: "chip-remove", "aria-label": `Remove tag ${strandLabel(strand)}` }, "×");
    remove.addEventListener("click", async () => {
      await api(`clips/${state.clip.id}/tags/${encodeURIComponent(id)}`, { method: "DELETE" });
      await refreshTags();
    });
    list.append(el("li", { class: "chip", title: strand.title }, el("span", { class: "code" }, strand.code), ` ${strand.title || ""}`, $("tag-picker").hidden ? null : remove));
  }
  if (!tags.length) list.append(el("li", { class: "muted" }, "No strands tagged yet."));
}

async function refreshShares() {
  const shares = items(await api(`clips/${state.clip.id}/shares`).catch(() => []));
  const list = $("shares");
  list.replaceChildren();
  for (const share of shares) {
    const who = share.recipient?.name || "the ECT";
    const until = share.until ? ` until ${formatDate(share.until)}` : "";
    const revoked = share.revoked_at ? " (revoked)" : share.active === false ? " (expired)" : "";
    const item = el("li", {}, `Shared with ${who}${until}${revoked}${shareDeletionNote(share)} `);
    if (share.active !== false && !share.revoked_at) {
      const revoke = el("button", { type: "button", class: "link-button" }, "Revoke");
      revoke.addEventListener("click", async () => {
        await api(`clips/${state.clip.id}/shares/${share.id}`, { method: "DELETE" });
        await refreshShares();
      });
      item.append(revoke);
    }
    list.append(item);
  }
}

// Blanking a moment (a pupil's face close up, a name read out): the owner, their mentor or an
// admin marks the range; a worker makes the stored recording black and silent there and removes
// the words from the transcript (for good), and every clip over it is made again the same way.
async function setUpBlanking(lesson, me) {
  if (lesson.owner_id !== me.id && me.role !== "mentor" && me.role !== "admin") return;
  const button = $("blank-range");
  button.hidden = false;
  const showBlanks = async () => {
    const blanks = items(await api(`lessons/${lesson.id}/blanks`));
    $("blanks-note").hidden = blanks.length === 0;
    const said = { pending: "being blanked in the recording", applying: "being blanked in the recording", applied: "blanked in the recording", failed: "only in clips: the recording could not be blanked" };
    $("blanks-note").textContent = `Blanked: ${blanks.map((b) => `${formatTime(b.start)}–${formatTime(b.end)} (${said[b.status] || b.status})`).join(", ")}`;
  };
  button.addEventListener("click", async () => {
    if (state.in === null || state.out === null) {
      $("range-note").textContent = "Mark in and out first.";
      return;
    }
    const range = `${formatTime(state.in)}–${formatTime(state.out)}`;
    if (!window.confirm(`Blank ${range}? The stored recording will be black and silent there and the words said in it removed from the transcript, for good: this cannot be undone. Every clip over it is made again the same way.`)) return;
    try {
      await api(`lessons/${lesson.id}/blanks`, { method: "POST", json: { start: Math.round(state.in * 1000) / 1000, end: Math.round(state.out * 1000) / 1000 } });
      toast(`Blanked ${range}; clips over it will be made again.`);
      await showBlanks();
    } catch (error) {
      toast(error.message);
    }
  });
  await showBlanks();
}

// The retention dates: everyone who sees the lesson sees when it (or its transcript) goes.
function showRetention(lesson) {
  const notice = retentionNotice(lesson);
  const box = $("lesson-retention");
  box.hidden = !notice;
  box.textContent = notice || "";
  box.classList.toggle("warning", Boolean(lesson.deletion_soon));
  const words = transcriptRetentionNotice(lesson);
  $("transcript-retention").hidden = !words;
  $("transcript-retention").textContent = words || "";
}

// The pupils' consent: shown to everyone who sees the lesson, changed by its owner or an admin.
function showConsent(lesson, me) {
  $("lesson-consent").textContent = consentNotice(lesson.consent, lesson.consent_label);
  showResearch(lesson, me);
  if (lesson.owner_id !== me.id && me.role !== "admin") return;
  const select = $("consent-select");
  select.value = lesson.consent;
  $("consent-edit").hidden = false;
  select.addEventListener("change", async () => {
    try {
      const changed = await api(`lessons/${lesson.id}/consent`, { method: "PUT", json: { consent: select.value } });
      $("lesson-consent").textContent = consentNotice(changed.consent, changed.consent_label);
      toast("Consent changed; clips will be made again as it requires.");
    } catch (error) {
      select.value = lesson.consent;
      toast(error.message);
    }
  });
}

// Research use beside the consent: the owner or an admin changes it; whoever reads the
// transcript (not an admin, who sees the record only) downloads the research exports.
function showResearch(lesson, me) {
  const readsContent = me.role !== "admin" || lesson.owner_id === me.id;
  const show = (current) => {
    $("lesson-research").textContent = researchNotice(current.research_use, current.research_use_label);
    $("research-exports").hidden = !(current.research_use && readsContent);
  };
  show(lesson);
  for (const button of $("research-exports").querySelectorAll("button[data-export]")) {
    button.addEventListener("click", () => downloadExport(lesson.id, button.dataset.export));
  }
  if (lesson.owner_id !== me.id && me.role !== "admin") return;
  const check = $("research-check");
  check.checked = lesson.research_use;
  $("research-edit").hidden = false;
  check.addEventListener("change", async () => {
    try {
      const changed = await api(`lessons/${lesson.id}/consent`, { method: "PUT", json: { research_use: check.checked } });
      lesson.research_use = changed.research_use;
      show(changed);
      toast(changed.research_use ? "This lesson may now be used for research." : "This lesson is now left out of research exports.");
    } catch (error) {
      check.checked = lesson.research_use;
      toast(error.message);
    }
  });
}

// The API needs the bearer token, so the file is fetched here and handed to the browser.
async function downloadExport(id, format) {
  try {
    const response = await api(`lessons/${id}/export.${format}`, { raw: true });
    const url = URL.createObjectURL(await response.blob());
    const link = Object.assign(document.createElement("a"), { href: url, download: `${id}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (error) {
    toast(error.message);
  }
}
