// Searching the transcripts of every lesson the signed-in person may watch: each hit opens the
// lesson's studio at the moment the sentence starts.

import { api, el, formatTime, onReady, requireUser } from "./api.js";

const $ = (id) => document.getElementById(id);

// The snippet as text nodes, with the matched ranges in <mark> (never parsed as HTML).
function marked(snippet, highlights) {
  const parts = [];
  let at = 0;
  for (const [start, end] of highlights) {
    if (start > at) parts.push(snippet.slice(at, start));
    parts.push(el("mark", {}, snippet.slice(start, end)));
    at = end;
  }
  parts.push(snippet.slice(at));
  return parts;
}

async function run(q) {
  const status = $("search-status");
  const list = $("search-results");
  list.replaceChildren();
  if (!q.trim()) {
    status.textContent = "";
    return;
  }
  status.textContent = "Searching…";
  try {
    const hits = await api(`search?q=${encodeURIComponent(q)}&limit=50`);
    status.textContent = hits.length
      ? `${hits.length === 50 ? "The first 50" : hits.length} moment${hits.length === 1 ? "" : "s"} for “${q}”.`
      : `Nothing found for “${q}” in the lessons you can watch.`;
    for (const hit of hits) {
      const href = `/lessons/${encodeURIComponent(hit.lesson_id)}?t=${hit.start}`;
      list.append(el("li", {}, el("a", { href },
        el("span", { class: "hit-where" }, `${hit.lesson_title || "Lesson"} · ${formatTime(hit.start)}`),
        el("span", { class: "hit-text" }, " ", ...marked(hit.snippet, hit.highlights)),
      )));
    }
  } catch (e) {
    status.textContent = e.message;
  }
}

onReady(async () => {
  await requireUser();
  const input = $("search-q");
  const q = new URLSearchParams(location.search).get("q") || "";
  input.value = q;
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `/search?q=${encodeURIComponent(input.value)}`);
    run(input.value);
  });
  await run(q);
});
