// Action steps on the home page: an ECT's current steps (mark one practised, with a note and a
// clip of their own as evidence), a mentor's ECTs' steps (close one or carry it forward), and
// when each ECT's next observation is due.

import { api, el, formatDate, toast } from "./api.js";
import { items } from "./coaching.js";

const $ = (id) => document.getElementById(id);

const STATUS = { open: "Open", practised: "Practised", closed: "Closed", carried: "Carried forward" };

// A calendar date as the school reads it ("Fri 11 Dec 2026"); the API's dates have no time.
export function formatDay(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-GB", {
    weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
  });
}

// Today and a week ahead as YYYY-MM-DD, for date inputs.
export const isoDay = (offsetDays = 0) => new Date(Date.now() + offsetDays * 86400000).toISOString().slice(0, 10);

export function dueText(schedule, me) {
  const who = schedule.ect.id === me.id ? "Your next observation" : `${schedule.ect.name}'s next observation`;
  if (!schedule.induction_start) return `${who}: not set (the induction lead has not entered the induction start date).`;
  if (!schedule.next_observation_due) return `${who}: none due (outside the two induction years).`;
  const rhythm = schedule.interval_days === 7 ? "weekly in year one" : "fortnightly in year two";
  return `${who} is due ${formatDay(schedule.next_observation_due)} (${rhythm}).`;
}

export async function showSteps(me) {
  const mentor = me.role === "mentor";
  $("steps-heading").textContent = mentor ? "Action steps for your ECTs" : "Your action steps";
  const ects = mentor ? me.paired_with || [] : [me];
  const [steps, schedules, ownClips] = await Promise.all([
    api("action-steps?current=true").then(items),
    Promise.all(ects.map((e) => api(`observation-schedule?ect_id=${encodeURIComponent(e.id)}`).catch(() => null))),
    mentor ? [] : api("clips").then((list) => items(list).filter((c) => c.reflection && c.author?.id === me.id)),
  ]);
  const due = $("observation-due");
  due.replaceChildren(...schedules.filter(Boolean).map((s) => el("span", { class: "due-line" }, dueText(s, me))));
  due.hidden = !schedules.some(Boolean);
  const list = $("steps");
  list.replaceChildren();
  for (const step of steps) list.append(stepCard(step, { mentor, ownClips }));
  $("steps-empty").hidden = steps.length > 0;
}

function stepCard(step, { mentor, ownClips }) {
  const badge = step.overdue
    ? el("span", { class: "badge badge-due" }, "Overdue")
    : el("span", { class: `badge${step.status === "practised" ? " badge-ok" : ""}` }, STATUS[step.status]);
  const card = el(
    "li",
    { class: `card step status-${step.status}`, dataset: { stepId: step.id } },
    el("p", { class: "step-for muted small" }, mentor ? `For ${step.ect.name}` : `From ${step.set_by?.name || "your mentor"}`, badge),
    el("h3", { class: "instruction" }, step.instruction),
    el("p", { class: "small" }, `Target: ${formatDay(step.target_date)}`),
    step.strands.length
      ? el("ul", { class: "chips", "aria-label": "Strands" }, step.strands.map((s) => el("li", { class: "chip", title: s.title }, el("span", { class: "code" }, s.code), ` ${s.title}`)))
      : null,
    clipLinks("Prompted by", step.clips),
  );
  if (step.status === "practised") {
    card.append(
      el("div", { class: "practice" },
        el("p", { class: "small" }, el("strong", {}, "Practised"), ` ${formatDate(step.practised_at)}: `, step.practice_note),
        step.evidence ? clipLinks("Evidence", [step.evidence]) : null),
    );
  }
  card.append(mentor ? reviewForm(step) : practiseForm(step, ownClips));
  return card;
}

function clipLinks(label, clips) {
  const shown = clips.filter((c) => c.viewable);
  if (!shown.length) return null;
  return el("p", { class: "small" }, `${label}: `, ...shown.flatMap((c, i) => [
    i ? ", " : "",
    el("a", { href: c.href }, c.title || `${c.lesson_title || "your lesson"} at ${Math.floor(c.start / 60)}:${String(Math.floor(c.start % 60)).padStart(2, "0")}`),
  ]));
}

function practiseForm(step, ownClips) {
  const id = step.id;
  const form = el("form", { class: "step-form", novalidate: true });
  const note = el("textarea", { id: `practice-note-${id}`, rows: "2", maxlength: "2000", required: true });
  note.value = step.practice_note || "";
  const evidence = el("select", { id: `evidence-${id}` },
    el("option", { value: "" }, "No clip"),
    ...ownClips.map((c) => el("option", { value: c.id }, `${c.title || "Untitled clip"} (${c.lesson_title})`)));
  const error = el("p", { class: "error", role: "alert", hidden: true });
  form.append(
    el("label", { for: note.id }, step.status === "practised" ? "Update your note" : "How did it go?"),
    note,
    el("label", { for: evidence.id }, "Evidence: a clip of your own (shared with your mentor)"),
    evidence,
    error,
    el("button", { type: "submit", class: "primary" }, "Mark as practised"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!note.value.trim()) {
      error.textContent = "Write a line about how it went.";
      error.hidden = false;
      return;
    }
    try {
      await api(`action-steps/${id}/practised`, {
        method: "POST",
        json: { note: note.value.trim(), evidence_clip_id: evidence.value || null },
      });
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      return;
    }
    toast("Marked as practised; your mentor will review it.");
    const me = await api("auth/me");
    await showSteps(me);
  });
  return form;
}

function reviewForm(step) {
  const id = step.id;
  const box = el("div", { class: "step-form" });
  const note = el("textarea", { id: `review-note-${id}`, rows: "2", maxlength: "2000" });
  const date = el("input", { id: `carry-date-${id}`, type: "date", min: isoDay(), value: isoDay(7) });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const closeButton = el("button", { type: "button", class: "primary" }, "Close step");
  const carryButton = el("button", { type: "button" }, "Carry forward");
  const act = async (path, json, message) => {
    error.hidden = true;
    try {
      await api(`action-steps/${id}/${path}`, { method: "POST", json });
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
      return;
    }
    toast(message);
    await showSteps(await api("auth/me"));
  };
  closeButton.addEventListener("click", () => act("close", { note: note.value.trim() }, "Step closed."));
  carryButton.addEventListener("click", () => act("carry", { note: note.value.trim(), target_date: date.value }, "Carried forward to a new date."));
  box.append(
    el("label", { for: note.id }, "Review note (optional)"), note,
    el("label", { for: date.id }, "New target date if carried forward"), date,
    error,
    el("div", { class: "actions start" }, closeButton, carryButton),
  );
  return box;
}
