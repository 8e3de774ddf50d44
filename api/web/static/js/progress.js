// An ECT's progress: observations and action steps per half-term as a bar chart, the strands
// their tagged clips evidence, their talk figures across lessons as small multiples, and a CSV.
// Evidence for a conversation, never a score: the page says so first.

import { api, downloadFile, el, onReady, requireUser, toast } from "./api.js";
import { TIMELINE_SERIES, drawBars, groupedBars, shortTerm } from "./charts.js";
import { formatDay } from "./steps.js";

const $ = (id) => document.getElementById(id);
const percent = (v) => `${Math.round(v * 100)} %`;

export const TALK_SERIES = [
  { key: "long_wait_share", label: "Questions followed by 3 s or more", cls: "s-wait", fraction: true, max: 1, format: percent },
  { key: "questions_per_ten_minutes", label: "Questions per ten minutes", cls: "s-questions", format: (v) => (Math.round(v * 10) / 10).toString() },
  { key: "teacher_share", label: "Teacher talk (share of the lesson)", cls: "s-teacher", fraction: true, max: 1, format: percent },
];

onReady(async () => {
  const me = await requireUser();
  const ectId = document.body.dataset.userId;
  const data = await api(`ects/${encodeURIComponent(ectId)}/progress`);
  const own = data.ect.id === me.id;
  $("page-title").textContent = own ? "Your progress" : `Progress: ${data.ect.name}`;
  document.title = `${$("page-title").textContent} · clipcoach`;
  $("progress-note").textContent = data.note;
  $("half-terms-note").textContent = data.half_terms_note;
  $("summary-link").href = `/progress/${encodeURIComponent(ectId)}/summary`;
  $("summary-link").hidden = me.role !== "mentor" && me.role !== "admin";
  $("download-csv").addEventListener("click", () => downloadCsv(ectId));
  showTimeline(data.terms);
  showStrands(data, me);
  showSteps(data.steps);
  showTalk(data.talk);
});

async function downloadCsv(ectId) {
  await downloadFile(`ects/${encodeURIComponent(ectId)}/progress.csv`, "progress.csv");
  toast("CSV downloaded.");
}

function showTimeline(terms) {
  const items = terms.map((t) => ({ label: t.label, values: t }));
  drawBars($("timeline-chart"), groupedBars(items, TIMELINE_SERIES, { height: 200, group: 96 }), terms.map((t) => shortTerm(t.label)));
  const box = $("timeline-chart").parentElement;
  box.scrollLeft = box.scrollWidth; // on a narrow screen, the latest half-terms first
  $("timeline-legend").replaceChildren(...TIMELINE_SERIES.map((s) => el("li", {}, el("span", { class: `swatch ${s.cls}`, "aria-hidden": "true" }), s.label)));
  $("timeline-table").replaceChildren(
    el("caption", {}, "Observations and action steps by half-term"),
    el("tr", {}, el("th", {}, "Half-term"), ...TIMELINE_SERIES.map((s) => el("th", {}, s.label))),
    ...terms.map((t) => el("tr", {}, el("th", {}, t.label), ...TIMELINE_SERIES.map((s) => el("td", {}, String(t[s.key]))))),
  );
}

function showStrands(data, me) {
  $("strands-scope").textContent = data.ect.id === me.id
    ? "Clips of your lessons you can see, your own reflections included."
    : "Clips shared between the ECT and their mentor.";
  const byStandard = new Map();
  for (const s of data.strands) {
    if (!byStandard.has(s.standard)) byStandard.set(s.standard, []);
    byStandard.get(s.standard).push(s);
  }
  const groups = [...byStandard.entries()].sort((a, b) => a[0] - b[0]).map(([standard, strands]) => el("div", { class: "standard" },
    el("h3", {}, `Standard ${standard}`),
    el("ul", { class: "strand-list" }, strands.map((s) => el("li", { class: "strand-row", dataset: { strandId: s.id } },
      el("span", { class: "code" }, s.code), " ", el("span", { class: "strand-title" }, s.title),
      el("span", { class: "muted small" }, ` · ${s.clips} clip${s.clips === 1 ? "" : "s"} · latest `,
        s.latest.href ? el("a", { href: s.latest.href }, s.latest.title || "untitled clip") : s.latest.lesson_title,
        ` (${formatDay(s.latest.day)})`))))));
  $("strands").replaceChildren(...groups);
  $("strands-empty").hidden = data.strands.length > 0;
}

function showSteps(steps) {
  const rows = [["Set", steps.set], ["Practised", steps.practised], ["Closed", steps.closed], ["Carried forward", steps.carried], ["Being worked on now", steps.current]];
  $("step-totals").replaceChildren(...rows.map(([label, n]) => el("div", { class: "figure" }, el("dt", {}, label), el("dd", {}, el("strong", {}, String(n))))));
}

function showTalk(talk) {
  $("talk-empty").hidden = talk.length > 0;
  if (!talk.length) return;
  const labels = talk.map((t, i) => [`L${i + 1}`, formatDay(t.day).split(" ").slice(1, 3).join(" ")]);
  $("talk-charts").replaceChildren(...TALK_SERIES.map((series) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `${series.label}, one bar per lesson`);
    svg.dataset.metric = series.key;
    const items = talk.map((t) => ({ label: `${t.lesson_title} (${formatDay(t.day)})`, values: t }));
    const geometry = groupedBars(items, [series], { height: 150, group: 44, left: 46, fraction: !!series.fraction, max: series.max ?? null });
    drawBars(svg, geometry, labels, { tickFormat: series.fraction ? percent : String, zeros: true });
    const missing = talk.filter((t) => t[series.key] === null).length;
    return el("figure", { class: "multiple" }, el("figcaption", {}, series.label), el("div", { class: "chart-scroll" }, svg),
      missing ? el("p", { class: "muted small" }, `${missing} lesson${missing === 1 ? "" : "s"} without this figure (${series.key === "teacher_share" ? "voices not told apart" : "no questions found"}).`) : null);
  }));
}
