// Home per role: an ECT's lessons and feed, a mentor's ECTs' lessons and clips, an admin's links.

import { api, el, formatDate, formatTime, onReady, requireUser, roleName, toast } from "./api.js";
import { showClassList } from "./classlist.js";
import { items } from "./coaching.js";
import { englandDay, retentionNotice, statusText } from "./lessons.js";
import { showSteps } from "./steps.js";

const $ = (id) => document.getElementById(id);

onReady(async () => {
  const me = await requireUser();
  $("page-title").textContent = `Welcome, ${me.name}`;
  const intro = {
    ect: "Upload your lessons, then review the clips your mentor shares with you.",
    mentor: "Open a lesson of one of your ECTs to clip, tag and give feedback.",
    coach: "Transcribe whole sets of lesson recordings at once, watch them go through and download the transcripts.",
    admin: "Manage accounts and mentor–ECT pairings.",
  };
  $("home-intro").textContent = intro[me.role] || roleName(me.role);
  const jobs = [];
  if (me.role === "ect" || me.role === "mentor" || me.role === "coach") {
    $("lessons-section").hidden = false;
    $("lessons-heading").textContent = me.role === "mentor" ? "Your ECTs' lessons" : "Your lessons";
    $("upload-link").hidden = me.role === "coach";
    jobs.push(showLessons(me));
    jobs.push(showClassList($("class-list"), "mine"));
  }
  if (me.role === "ect" || me.role === "mentor") {
    $("steps-section").hidden = false;
    jobs.push(showSteps(me));
  }
  if (me.role === "ect") {
    $("feed-section").hidden = false;
    jobs.push(showFeed());
  }
  if (me.role === "mentor") {
    $("clips-section").hidden = false;
    jobs.push(showClips());
  }
  if (me.role === "ect" || me.role === "mentor") jobs.push(showCollections(me));
  if (me.role === "admin") $("admin-section").hidden = false;
  if (me.role === "coach") $("batches-section").hidden = false;
  jobs.push(showProgressLinks(me));
  await Promise.all(jobs);
});

// Links to the progress page: an ECT's own, a mentor's for each paired ECT, every ECT's for
// an admin (the induction lead).
async function showProgressLinks(me) {
  let ects = [];
  if (me.role === "ect") ects = [{ id: me.id, label: "Your progress" }];
  if (me.role === "mentor") ects = (me.paired_with || []).map((e) => ({ id: e.id, label: `Progress: ${e.name}` }));
  if (me.role === "admin") {
    const users = items(await api("admin/users").catch(() => []));
    ects = users.filter((u) => u.role === "ect" && u.active !== false).map((e) => ({ id: e.id, label: `Progress: ${e.name}` }));
  }
  if (!ects.length) return;
  $("progress-section").hidden = false;
  $("progress-links").replaceChildren(...ects.map((e) => el("li", {}, el("a", { class: "button", href: `/progress/${encodeURIComponent(e.id)}` }, e.label))));
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// The poster frame comes through a signed link (an <img> cannot send the bearer token).
async function posterOf(lesson, img) {
  try {
    const links = await api(`lessons/${lesson.id}/media-links`);
    if (links.poster) img.src = links.poster;
  } catch {
    /* no poster: the card keeps its placeholder */
  }
}

async function showLessons(me) {
  const lessons = items(await api("lessons"));
  const list = $("lessons");
  for (const lesson of lessons) {
    const title = lesson.title || lesson.source_filename || "Untitled lesson";
    const poster = el("img", { class: "poster", alt: "", loading: "lazy" });
    if (lesson.status === "ready" && lesson.has_video) void posterOf(lesson, poster);
    const teacher = lesson.owner && lesson.owner.id !== me.id ? lesson.owner.name : null;
    list.append(
      el(
        "li",
        { class: `card lesson status-${lesson.status}` },
        el("a", { class: "poster-link", href: `/lessons/${lesson.id}`, tabindex: "-1", "aria-hidden": "true" },
          poster, lesson.duration ? el("span", { class: "duration" }, formatTime(lesson.duration).replace(/\.\d$/, "")) : null),
        el("h3", {}, el("a", { href: `/lessons/${lesson.id}` }, title)),
        el("p", { class: "muted small" }, [teacher, formatDate(lesson.created_at)].filter(Boolean).join(" · ")),
        lesson.status === "ready"
          ? el("p", { class: "counts small" }, `${plural(lesson.clip_count || 0, "clip")} · ${plural(lesson.comment_count || 0, "comment")}`)
          : null,
        lesson.status === "ready" ? null : el("p", { class: "status" }, statusText(lesson)),
        lesson.deletion_soon ? el("p", { class: "retention small warning", role: "note" }, retentionNotice(lesson)) : null,
        lesson.status === "failed" && (lesson.owner_id === me.id || me.role === "admin") ? failedActions(lesson) : null,
      ),
    );
  }
  $("lessons-empty").hidden = lessons.length > 0;
}

// A failed lesson's owner can try again (after a full disk, a restart) or delete it.
function failedActions(lesson) {
  const title = lesson.title || lesson.source_filename || "this lesson";
  const retry = el("button", { type: "button", class: "small-button", "aria-label": `Retry processing ${title}` }, "Retry");
  const remove = el("button", { type: "button", class: "small-button danger", "aria-label": `Delete ${title}` }, "Delete");
  retry.addEventListener("click", async () => {
    await api(`lessons/${lesson.id}/retry`, { method: "POST" });
    toast("Processing again.");
    location.reload();
  });
  remove.addEventListener("click", async () => {
    if (!confirm(`Delete “${title}” and everything made from it?`)) return;
    await api(`lessons/${lesson.id}`, { method: "DELETE" });
    toast("Deleted.");
    location.reload();
  });
  return el("div", { class: "actions start" }, retry, remove);
}

async function showFeed() {
  const feed = items(await api("feed"));
  const list = $("feed");
  for (const entry of feed) {
    const clip = entry.clip || entry;
    const tags = items(entry.tags);
    const count = entry.comment_count ?? 0;
    // The poster of the lesson the clip comes from when it is the ECT's own lesson; a model
    // clip is of another teacher's lesson, whose poster is not theirs to see.
    const poster = el("img", { class: "poster", alt: "", loading: "lazy" });
    if (!entry.model_practice) void posterOf({ id: clip.lesson_id }, poster);
    list.append(
      el(
        "li",
        { class: `card lesson feed-item${entry.model_practice ? " model-practice" : ""}` },
        el("a", { class: "poster-link", href: `/clips/${clip.id}`, tabindex: "-1", "aria-hidden": "true" }, poster),
        entry.model_practice ? el("p", { class: "kind-label small" }, "Model practice") : null,
        el("h3", {}, el("a", { href: `/clips/${clip.id}` }, clip.title || "Untitled clip")),
        clip.lesson_title ? el("p", { class: "small" }, `From the lesson “${clip.lesson_title}” · ${formatTime(clip.duration ?? clip.end - clip.start)}`) : null,
        el("p", { class: "muted small" }, [
          entry.shared_by && (entry.model_practice ? `Shared by ${entry.shared_by.name}` : `From ${entry.shared_by.name}`),
          formatDate(entry.shared_at),
          `${count} comment${count === 1 ? "" : "s"}`,
          entry.until && `until ${formatDate(entry.until)}`,
          entry.deletes_on && `removed on ${englandDay(entry.deletes_on)} (the school's retention period)`,
        ].filter(Boolean).join(" · ")),
        tags.length
          ? el("ul", { class: "chips" }, tags.map((t) => el("li", { class: "chip", title: t.title }, el("span", { class: "code" }, t.code), ` ${t.title || ""}`)))
          : null,
      ),
    );
  }
  $("feed-empty").hidden = feed.length > 0;
}

async function showClips() {
  const clips = items(await api("clips").catch(() => []));
  const list = $("clips");
  for (const clip of clips) {
    list.append(
      el("li", { class: "card" },
        el("h3", {}, el("a", { href: `/clips/${clip.id}` }, clip.title || "Untitled clip")),
        el("p", { class: "muted small" }, [
          // an ECT's own clip reaches their mentor only when they share it: say whose it is
          clip.reflection && clip.author ? `${clip.author.name}'s own clip, shared with you` : clip.lesson_title,
          `${formatTime(clip.end - clip.start)} long`,
          formatDate(clip.created_at),
        ].filter(Boolean).join(" · "))),
    );
  }
  $("clips-empty").hidden = clips.length > 0;
}

// Collections: an ECT's are those shared with them; a mentor's are their own, made here from
// their clips (of their ECTs' lessons) and shared with one ECT at once.
async function showCollections(me) {
  $("collections-section").hidden = false;
  $("collections-intro").textContent = me.role === "mentor"
    ? "Bundle clips from one or more lessons and share them with your ECT at once."
    : "Clips your mentor bundled for you, played one after another.";
  const collections = items(await api("collections").catch(() => []));
  $("collections").replaceChildren(...collections.map((c) =>
    el("li", { class: "card" },
      el("h3", {}, el("a", { href: `/collections/${c.id}` }, c.title)),
      el("p", { class: "muted small" }, [
        plural(c.clips.length, "clip"),
        me.role === "mentor" && (c.shared_with.length ? `shared with ${c.shared_with.map((s) => s.recipient.name).join(", ")}` : "not shared"),
        formatDate(c.created_at),
      ].filter(Boolean).join(" · ")))));
  $("collections-empty").hidden = collections.length > 0;
  if (me.role !== "mentor") return;
  const clips = items(await api("clips").catch(() => [])).filter((c) => !c.reflection);
  const ects = me.paired_with || [];
  if (!clips.length || !ects.length) return;
  const form = $("collection-form");
  form.hidden = false;
  // Clips play in the order they were picked; each shows its place.
  const picked = [];
  const marks = new Map();
  const renumber = () => {
    for (const [id, mark] of marks) mark.textContent = picked.includes(id) ? String(picked.indexOf(id) + 1) : "";
  };
  $("collection-clips").replaceChildren(...clips.map((clip) => {
    const box = el("input", { type: "checkbox", value: clip.id, id: `pick-${clip.id}` });
    const mark = el("span", { class: "pick-order", "aria-hidden": "true" });
    marks.set(clip.id, mark);
    box.addEventListener("change", () => {
      if (box.checked) picked.push(clip.id);
      else picked.splice(picked.indexOf(clip.id), 1);
      renumber();
    });
    return el("li", {}, box, mark, el("label", { for: box.id }, `${clip.title || "Untitled clip"} · ${clip.lesson_title} · ${formatTime(clip.duration)}`));
  }));
  $("collection-ect").replaceChildren(...ects.map((e) => el("option", { value: e.id }, e.name)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const title = $("collection-title").value.trim();
    if (!title) return $("collection-title").focus();
    if (!picked.length) return toast("Pick at least one clip.", "error");
    const made = await api("collections", { method: "POST", json: { title, clip_ids: [...picked] } });
    await api(`collections/${made.id}/shares`, { method: "POST", json: { ect_id: $("collection-ect").value } });
    toast("Collection shared.");
    location.assign(`/collections/${made.id}`);
  });
}
