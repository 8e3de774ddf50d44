// The termly summary: a draft made from the evidence (evidence.js) in an editable sheet, which
// the mentor rewrites before use; printing gives a clean A4 page (the print stylesheet hides
// everything but the sheet). Nothing here grades the teacher.

import { api, el, onReady, requireUser } from "./api.js";
import { defaultTerm, draftParagraphs } from "./evidence.js";
import { formatDay } from "./steps.js";

const $ = (id) => document.getElementById(id);

onReady(async () => {
  const me = await requireUser();
  const ectId = document.body.dataset.userId;
  const [data, steps] = await Promise.all([
    api(`ects/${encodeURIComponent(ectId)}/progress`),
    api(`action-steps?current=true&ect_id=${encodeURIComponent(ectId)}`),
  ]);
  $("page-title").textContent = `Termly summary: ${data.ect.name}`;
  $("back-link").href = `/progress/${encodeURIComponent(ectId)}`;
  const select = $("term");
  const chosen = defaultTerm(data.terms);
  select.replaceChildren(...data.terms.map((t) => el("option", { value: t.key, selected: t.key === chosen?.key }, t.label)));
  const draw = () => {
    const term = data.terms.find((t) => t.key === select.value) || chosen;
    $("summary-heading").textContent = `${data.ect.name}: ${term.label}`;
    $("summary-meta").textContent = [
      `Early career teacher: ${data.ect.name}`,
      me.role === "mentor" ? `Mentor: ${me.name}` : null,
      data.induction_start ? `Induction began ${formatDay(data.induction_start)}` : null,
      `Drafted ${formatDay(data.today)}`,
    ].filter(Boolean).join(" · ");
    $("draft").replaceChildren(...draftParagraphs(data, term, steps).map((text) => el("p", {}, text)));
  };
  draw();
  select.addEventListener("change", () => {
    if ($("draft").dataset.edited && !confirm("Replace your edits with a new draft for this half-term?")) return;
    draw();
    delete $("draft").dataset.edited;
  });
  $("draft").addEventListener("input", () => { $("draft").dataset.edited = "yes"; });
  $("redraft").addEventListener("click", () => {
    if ($("draft").dataset.edited && !confirm("Replace your edits with a new draft from the evidence?")) return;
    draw();
    delete $("draft").dataset.edited;
  });
  $("print").addEventListener("click", () => window.print());
});
