// Small inline-SVG charts for the progress page, drawn here (no chart library, nothing fetched).
// The geometry is pure (tested under node); `drawBars` turns it into SVG elements. Each bar is
// a `rect.mark` with a <title>, and a zero or missing value draws no bar.

const SVG = "http://www.w3.org/2000/svg";

export const TIMELINE_SERIES = [
  { key: "lessons", label: "Lessons observed", cls: "s-lessons" },
  { key: "lessons_clipped", label: "Lessons clipped", cls: "s-clipped" },
  { key: "steps_set", label: "Action steps set", cls: "s-set" },
  { key: "steps_practised", label: "Steps practised", cls: "s-practised" },
  { key: "steps_closed", label: "Steps closed", cls: "s-closed" },
  { key: "steps_carried", label: "Steps carried forward", cls: "s-carried" },
];

// Up to `count` round steps from 0 to at least `max` (whole numbers unless `fraction`).
export function ticks(max, { count = 4, fraction = false } = {}) {
  if (!(max > 0)) return fraction ? [0, 0.5, 1] : [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw && (fraction || Number.isInteger(s))) || Math.ceil(raw);
  const top = Math.ceil(max / step) * step;
  const out = [];
  for (let v = 0; v <= top + step / 1e6; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

// Grouped bars: one group per item (a half-term, a lesson), one bar per series with a value.
// items: [{label, values: {key: number|null}}]; series: [{key, label, cls}].
export function groupedBars(items, series, { height = 180, group = 72, gap = 3, left = 34, top = 8, bottom = 38, fraction = false, max = null } = {}) {
  const values = items.flatMap((item) => series.map((s) => item.values[s.key])).filter((v) => Number.isFinite(v));
  const scale = ticks(max ?? Math.max(0, ...values), { fraction });
  const yMax = scale[scale.length - 1] || 1;
  const plot = height - top - bottom;
  const bar = Math.max(4, (group - 12 - gap * (series.length - 1)) / series.length);
  const marks = [];
  const zeros = []; // a value of 0 is a tick on the axis, so it reads apart from a missing one
  items.forEach((item, i) => {
    series.forEach((s, j) => {
      const value = item.values[s.key];
      if (value === 0) zeros.push({ item: i, series: s.key, x: left + i * group + 6 + j * (bar + gap), w: bar });
      if (!Number.isFinite(value) || value <= 0) return;
      const h = (Math.min(value, yMax) / yMax) * plot;
      marks.push({
        item: i, series: s.key, cls: s.cls, value,
        x: left + i * group + 6 + j * (bar + gap), y: top + plot - h, w: bar, h,
        title: `${item.label}: ${s.label} ${s.format ? s.format(value) : value}`,
      });
    });
  });
  return {
    width: left + items.length * group + 8, height, top, plot, left, group, marks, zeros,
    ticks: scale.map((v) => ({ value: v, y: top + plot - (v / yMax) * plot })),
  };
}

function node(tag, attrs = {}, text = null) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== null) n.textContent = text;
  return n;
}

// Draw `groupedBars(...)` into `svg`; `labels[i]` is one or two lines under group i.
// With `zeros`, each value of exactly 0 is labelled "0" on the axis (the talk figures, where a
// missing figure and a zero one mean different things).
export function drawBars(svg, geometry, labels, options = {}) {
  const { tickFormat = String } = options;
  const { width, height, top, plot, left, group, marks } = geometry;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  for (const t of geometry.ticks) {
    svg.append(node("line", { class: "grid", x1: left, x2: width - 4, y1: t.y, y2: t.y }));
    svg.append(node("text", { class: "tick", x: left - 5, y: t.y + 4, "text-anchor": "end" }, tickFormat(t.value)));
  }
  labels.forEach((lines, i) => {
    [].concat(lines).forEach((line, k) => {
      svg.append(node("text", { class: "axis-label", x: left + i * group + group / 2, y: top + plot + 15 + k * 13, "text-anchor": "middle" }, line));
    });
  });
  for (const m of marks) {
    const rect = node("rect", { class: `mark ${m.cls}`, x: m.x.toFixed(1), y: m.y.toFixed(1), width: m.w.toFixed(1), height: Math.max(m.h, 1).toFixed(1), rx: 2, "data-series": m.series, "data-value": m.value });
    rect.append(node("title", {}, m.title));
    svg.append(rect);
  }
  svg.append(node("line", { class: "axis", x1: left, x2: width - 4, y1: top + plot, y2: top + plot }));
  if (options.zeros) {
    for (const z of geometry.zeros) {
      svg.append(node("text", { class: "zero", x: (z.x + z.w / 2).toFixed(1), y: top + plot - 3, "text-anchor": "middle" }, "0"));
    }
  }
  return svg;
}

// "Autumn 1 2026/27" -> ["Aut 1", "26/27"]
export function shortTerm(label) {
  const [name, number, year] = label.split(" ");
  return [`${name.slice(0, 3)} ${number}`, year ? year.slice(2) : ""];
}
