// Pieces the studio and the review page share: lists from the API, strands and comments.

import { api, el, formatDate, formatTime, toast } from "./api.js";

// A list from the API, whether it came bare or wrapped ({items: [...]}, {segments: [...]}).
export function items(data) {
  if (Array.isArray(data)) return data;
  if (!data || typeof data !== "object") return [];
  for (const key of ["items", "results", "data", "segments", "clips", "strands", "comments", "tags", "shares", "users", "frameworks"]) {
    if (Array.isArray(data[key])) return data[key];
  }
  return [];
}

export function strandLabel(strand) {
  return `${strand.code || ""} ${strand.title || ""}`.trim();
}

// A suggested strand's chip text: "Suggested: 4m Giving thinking time…", cut at a word so
// three fit side by side (the full title and the why are shown beside it).
export function suggestionLabel(strand, max = 40) {
  let title = (strand.title || "").trim();
  if (title.length > max) {
    const cut = title.slice(0, max);
    title = `${cut.slice(0, cut.lastIndexOf(" ") > 0 ? cut.lastIndexOf(" ") : max).replace(/[,;:]$/, "")}…`;
  }
  return `Suggested: ${strandLabel({ code: strand.code, title })}`;
}

const KIND_NAMES = { strength: "Strength", question: "Question", next_step: "Next step", note: "Note", reflection: "Reflection" };
export const kindName = (kind) => KIND_NAMES[kind] || "Comment";

// Top-level comments in time order, each with its replies (flat lists are nested by parent_id).
export function threads(list) {
  const all = items(list);
  const byId = new Map(all.map((c) => [c.id, { ...c, replies: [...(c.replies || [])] }]));
  const top = [];
  for (const c of byId.values()) {
    if (c.parent_id && byId.has(c.parent_id)) byId.get(c.parent_id).replies.push(c);
    else if (!c.parent_id) top.push(c);
  }
  const byTime = (a, b) => (a.created_at || "").localeCompare(b.created_at || "");
  for (const c of top) c.replies.sort(byTime);
  return top.sort((a, b) => a.at - b.at || byTime(a, b));
}

// A reflection on the clip as a whole has no moment of its own: say so instead of "0:00.0".
const momentOf = (comment) => (comment.kind === "reflection" && !comment.at ? "Whole clip" : formatTime(comment.at));

// The comment list: a button per comment seeks to its moment (and tells `seek` which comment it
// was); the one playing is highlighted.
export function commentList(container, { load, seek, reply = null, onRender = () => {} }) {
  let current = [];
  const render = (list) => {
    current = threads(list);
    container.replaceChildren();
    for (const comment of current) {
      const author = comment.author?.name || "";
      const jump = el(
        "button",
        {
          type: "button",
          class: "comment-jump",
          dataset: { at: String(comment.at), commentId: comment.id },
          "aria-label": `Watch from ${formatTime(comment.at)}: ${kindName(comment.kind)} from ${author || "mentor"}`,
        },
        el("span", { class: "at" }, momentOf(comment)),
        el("span", { class: `kind kind-${comment.kind}` }, kindName(comment.kind)),
      );
      jump.addEventListener("click", () => seek(comment.at, comment));
      const item = el(
        "li",
        { class: `comment${comment.deleted ? " removed" : ""}`, dataset: { at: String(comment.at), commentId: comment.id } },
        jump,
        ...commentText(comment, refresh),
      );
      if (comment.replies.length) {
        const replies = el("ol", { class: "replies", "aria-label": "Replies" });
        for (const r of comment.replies) {
          replies.append(
            el("li", { class: `reply${r.deleted ? " removed" : ""}`, dataset: { commentId: r.id } }, ...commentText(r, refresh)),
          );
        }
        item.append(replies);
      }
      if (reply && !comment.deleted) {
        const toggle = el("button", { type: "button", class: "link-button", "aria-expanded": "false" }, "Reply");
        const form = el("form", { class: "inline-reply", hidden: true });
        const box = el("textarea", { rows: "2", "aria-label": `Reply to the comment at ${formatTime(comment.at)}`, required: true });
        form.append(box, el("button", { type: "submit" }, "Send reply"));
        toggle.addEventListener("click", () => {
          form.hidden = !form.hidden;
          toggle.setAttribute("aria-expanded", String(!form.hidden));
          if (!form.hidden) box.focus();
        });
        form.addEventListener("submit", async (event) => {
          event.preventDefault();
          if (!box.value.trim()) return;
          await reply(comment, box.value.trim());
          await refresh();
        });
        item.append(toggle, form);
      }
      container.append(item);
    }
    if (!current.length) container.append(el("li", { class: "muted" }, "No comments yet."));
    onRender(current);
  };
  const refresh = async () => render(await load());
  return {
    refresh,
    // Highlight the comment whose moment playback has reached (the latest one at or before t).
    follow(t) {
      let active = null;
      for (const c of current) if (c.at <= t + 0.05) active = c;
      for (const node of container.querySelectorAll(":scope > .comment")) {
        node.classList.toggle("active", active !== null && node.dataset.commentId === active.id);
      }
    },
  };
}

// A comment's words, who wrote it and when ("edited" with the time), and for its author, while
// the server allows (`editable_until`), Edit and Delete. A removed one keeps its place in the
// thread so its replies still read as answers.
function commentText(comment, refresh) {
  if (comment.deleted) return [el("p", { class: "body muted" }, "Comment removed")];
  const meta = [comment.author?.name, formatDate(comment.created_at)];
  if (comment.edited_at) meta.push(`edited ${formatDate(comment.edited_at)}`);
  const body = el("p", { class: "body" }, comment.body);
  const parts = [body, el("p", { class: "muted small" }, meta.filter(Boolean).join(" · "))];
  if (!comment.editable_until) return parts;
  const edit = el("button", { type: "button", class: "link-button", "aria-expanded": "false" }, "Edit");
  const remove = el("button", { type: "button", class: "link-button danger" }, "Delete");
  const form = el("form", { class: "inline-reply", hidden: true });
  const box = el("textarea", { rows: "2", "aria-label": "Edit your comment", required: true });
  box.value = comment.body;
  form.append(box, el("button", { type: "submit" }, "Save changes"));
  edit.addEventListener("click", () => {
    form.hidden = !form.hidden;
    edit.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) box.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!box.value.trim()) return;
    await api(`comments/${comment.id}`, { method: "PATCH", json: { body: box.value.trim() } });
    toast("Comment updated.");
    await refresh();
  });
  remove.addEventListener("click", async () => {
    if (!confirm("Delete this comment?")) return;
    await api(`comments/${comment.id}`, { method: "DELETE" });
    toast("Comment deleted.");
    await refresh();
  });
  parts.push(el("p", { class: "comment-actions small" }, edit, " ", remove), form);
  return parts;
}

// Whether a lesson's consent covers research use, as shown beside its consent state.
export function researchNotice(researchUse, label) {
  const note = researchUse
    ? " Research exports hold the transcript, speakers, questions and the clips, tags, comments and steps you can see; no emails, no video."
    : " Its owner or an admin can change that if the consent covers it.";
  return `Research use: ${label}.${note}`;
}

// The pupils' consent state of a lesson, as shown beside the lesson and each of its clips.
export function consentNotice(consent, label) {
  const notes = {
    blur_faces: " Blurring lowers the risk that a pupil is recognised; it does not guarantee it.",
    audio_only: " Shared clips carry sound and captions only.",
    not_shared: " Clips of this lesson are not shared.",
  };
  return `Pupils' consent: ${label}.${notes[consent] || ""}`;
}
