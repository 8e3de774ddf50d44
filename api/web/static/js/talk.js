// The lesson's talk under the video: speech and silence over time (teacher and pupils when the
// voices were told apart), each question as a mark that seeks the video, and every figure with
// a line on what it means. Evidence for a conversation, never a score: the card says so.

import { api, el, formatTime } from "./api.js";

const LABELS = { speech: "Speech", teacher: "Teacher", pupil: "Pupils", silence: "Silence" };

function shown(figure) {
  const v = figure.value;
  if (v === null || v === undefined) return "–";
  if (figure.unit === "share") return `${Math.round(v * 100)} %`;
  if (figure.unit === "s") return `${v.toFixed(1)} s`;
  if (figure.unit === "count") return String(Math.round(v));
  return `${Math.round(v * 10) / 10} ${figure.unit}`;
}

// Draws the strip under the scrubber and the figures card (both hidden until there are
// figures); resolves to the analytics or null. With `onClip(start, end, what)`, each question
// and longest stretch offers "Make a clip from this moment".
export async function talkPanel(strip, card, video, base, { onClip = null } = {}) {
  let data;
  try {
    data = await api(`${base}/analytics`);
  } catch {
    return null; // no transcript (no sound, transcription off): nothing to show
  }
  const $ = (sel) => strip.querySelector(sel) || card.querySelector(sel);
  const length = data.duration || video.duration || 1;
  const at = (t) => `${Math.min(Math.max(t / length, 0), 1) * 100}%`; // CSSOM: allowed by the CSP

  $(".talk-bar").replaceChildren(...data.timeline.map((run) => {
    const part = el("span", {
      class: `run run-${run.label}`,
      title: `${LABELS[run.label] || run.label}, ${formatTime(run.start)}–${formatTime(run.end)}`,
    });
    part.style.left = at(run.start);
    part.style.width = `${((run.end - run.start) / length) * 100}%`;
    return part;
  }));
  $(".question-marks").replaceChildren(...data.questions.map((q) => {
    const mark = el("button", {
      type: "button",
      class: `question-mark kind-${q.kind}`,
      title: `${formatTime(q.start)} · ${q.kind} question · wait ${q.wait.toFixed(1)} s: ${q.text}`,
      "aria-label": `${q.kind === "open" ? "Open" : "Closed"} question at ${formatTime(q.start)}, then ${q.wait.toFixed(1)} s of wait: ${q.text}`,
      dataset: { at: String(q.start) },
    }, "?");
    mark.style.left = at(q.start);
    mark.addEventListener("click", () => { video.currentTime = q.start; });
    return mark;
  }));
  const labels = new Set(data.timeline.map((run) => run.label));
  $(".talk-legend").replaceChildren(...["teacher", "pupil", "speech", "silence"]
    .filter((label) => labels.has(label))
    .map((label) => el("li", {}, el("span", { class: `swatch run-${label}`, "aria-hidden": "true" }), LABELS[label]))
    .concat(data.questions.length ? [el("li", {}, el("span", { class: "swatch question", "aria-hidden": "true" }, "?"), "Question (click to watch)")] : []));
  $(".talk-figures").replaceChildren(...data.figures.map((f) => el("div", { class: "figure" },
    el("dt", {}, f.label),
    el("dd", {}, el("strong", {}, shown(f)), el("span", { class: "muted small" }, f.meaning)))));
  const moments = [
    ...data.questions.map((q) => ({
      start: q.start, end: q.end + Math.min(q.wait, 10), at: q.start,
      text: `${q.kind === "open" ? "Open" : "Closed"} question: “${q.text}”, then ${q.wait.toFixed(1)} s of wait`,
    })),
    ...data.talk.flatMap((t) => t.longest.slice(0, 1).map((r) => ({
      start: r.start, end: r.end, at: r.start,
      text: `Longest stretch of ${LABELS[t.label] ? LABELS[t.label].toLowerCase() : t.label} talk, ${(r.end - r.start).toFixed(1)} s`,
    }))),
  ].sort((a, b) => a.at - b.at);
  $(".talk-moments").replaceChildren(...moments.map((m) => el("li", {},
    el("button", { type: "button", class: "link-button time", "aria-label": `Watch from ${formatTime(m.at)}`, onclick: () => { video.currentTime = m.at; } }, formatTime(m.at)),
    " ", m.text,
    onClip ? el("button", { type: "button", class: "small-button", onclick: () => onClip(m.start, m.end, m.text) }, "Make a clip from this moment") : null)));
  $(".talk-note").textContent = data.note;
  $(".talk-sure").textContent = data.how_sure;
  strip.hidden = false;
  card.hidden = false;
  return data;
}
