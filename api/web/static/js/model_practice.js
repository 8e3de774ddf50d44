// Model practice: the school's library, clips shared with the caller, and (for teachers who may
// share model practice) marking their own clips, sharing them with ECTs or groups; admins
// publish marked clips to the library and keep school-wide groups. Rules: docs/privacy.md.

import { ApiError, api, el, formatDate, formatTime, onReady, requireUser, toast } from "./api.js";
import { items } from "./coaching.js";

const $ = (id) => document.getElementById(id);

onReady(async () => {
  const me = await requireUser();
  const sharer = me.role === "mentor" || (me.role !== "ect" && me.may_share_model_practice);
  const admin = me.role === "admin";
  const state = { groups: [] };

  if (admin) {
    $("mp-intro").textContent =
      "Model clips their teachers have marked. Publishing one puts it in the school's library, " +
      "where every teacher can watch it; you see the record, never the recording.";
    $("mp-scope").replaceChildren(
      el("option", { value: "all" }, "Every marked clip"),
      el("option", { value: "library" }, "In the school's library"),
    );
  } else if (me.role === "ect") {
    $("mp-scope").querySelector("option[value=mine]").remove();
  }

  loadStrands();
  for (const id of ["mp-scope", "mp-strand"]) $(id).addEventListener("change", refresh);
  let typing;
  $("mp-q").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(refresh, 250);
  });
  $("mp-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });

  if (sharer || admin) await loadGroups();
  if (sharer) await setUpMarking();
  await refresh();

  async function refresh() {
    const params = new URLSearchParams({ scope: $("mp-scope").value });
    if ($("mp-strand").value) params.set("strand_id", $("mp-strand").value);
    if ($("mp-q").value.trim()) params.set("q", $("mp-q").value.trim());
    const clips = await api(`model-clips?${params}`);
    $("mp-list").replaceChildren(...clips.map(card));
    $("mp-empty").hidden = clips.length > 0;
    $("mp-count").textContent = clips.length === 1 ? "1 model clip" : `${clips.length} model clips`;
  }

  function card(clip) {
    const strands = el(
      "ul",
      { class: "chips", "aria-label": "Strands it shows" },
      ...clip.tags.map((t) => el("li", { class: "chip", title: t.title }, `${t.code} ${t.title}`)),
    );
    const badges = [];
    if (clip.published_at) badges.push(el("span", { class: "badge badge-ok" }, "In the library"));
    if (clip.mine) badges.push(el("span", { class: "badge" }, "Yours"));
    const body = [
      el("h3", {}, admin ? clip.title || "Untitled clip" : el("a", { href: `/clips/${encodeURIComponent(clip.clip_id)}` }, clip.title || "Untitled clip"), ...badges),
      el("p", { class: "muted small" }, [clip.teacher && clip.teacher.name, clip.lesson_title, formatTime(clip.duration)].filter(Boolean).join(" · ")),
      clip.note ? el("p", { class: "mp-note" }, clip.note) : "",
      strands,
      el("p", { class: "muted small" }, `Pupils' consent: ${clip.consent_label}`),
    ];
    const li = el("li", { class: "card mp-card", "data-clip-id": clip.clip_id }, ...body);
    if (admin) li.append(publishControls(clip));
    if (clip.mine && sharer) li.append(shareControls(clip));
    return li;
  }

  function publishControls(clip) {
    const button = el("button", { type: "button", class: clip.published_at ? "" : "primary" }, clip.published_at ? "Take out of the library" : "Publish to the library");
    button.addEventListener("click", async () => {
      await act(() => api(`clips/${clip.clip_id}/library`, { method: clip.published_at ? "DELETE" : "PUT" }), clip.published_at ? "Taken out of the library." : "Published to the school's library.");
    });
    return el("div", { class: "mp-actions" }, button);
  }

  function shareControls(clip) {
    const target = el("select", { "aria-label": `Share “${clip.title}” with` });
    for (const ect of me.paired_with || []) target.append(el("option", { value: `ect:${ect.id}` }, ect.name));
    for (const group of state.groups) target.append(el("option", { value: `group:${group.id}` }, `Group: ${group.name} (${group.members.length})`));
    const share = el("button", { type: "button", class: "primary" }, "Share");
    share.disabled = !target.options.length;
    share.addEventListener("click", async () => {
      const [kind, id] = target.value.split(":");
      await act(() => api(`clips/${clip.clip_id}/model-shares`, { method: "POST", json: kind === "ect" ? { ect_id: id } : { group_id: id } }), `Shared with ${target.selectedOptions[0].textContent}.`);
    });
    const unmark = el("button", { type: "button", class: "link-button" }, "Stop offering it");
    unmark.addEventListener("click", async () => {
      await act(() => api(`clips/${clip.clip_id}/model`, { method: "DELETE" }), "No longer model practice; its shares have ended.");
    });
    const sharedWith = el("p", { class: "muted small mp-shared" });
    api(`clips/${clip.clip_id}/model-shares`).then((shares) => {
      const live = shares.filter((s) => s.active).map((s) => (s.group ? `group ${s.group.name}` : s.ect && s.ect.name));
      sharedWith.textContent = live.length ? `Shared with ${live.join(", ")}` : "Not shared yet";
    });
    return el("div", { class: "mp-actions" }, target, share, unmark, sharedWith);
  }

  async function act(call, done) {
    try {
      await call();
      toast(done, "ok");
    } catch (error) {
      toast(error instanceof ApiError ? error.message : String(error), "error");
    }
    await refresh();
  }

  async function loadStrands() {
    const frameworks = items(await api("frameworks"));
    for (const fw of frameworks) {
      const strands = items(await api(`frameworks/${encodeURIComponent(fw.id)}/strands`));
      const group = el("optgroup", { label: `${fw.name} (${fw.version})` });
      for (const s of strands) group.append(el("option", { value: s.id }, `${s.code} ${s.title}`));
      $("mp-strand").append(group);
    }
  }

  async function loadGroups() {
    state.groups = await api("ect-groups");
    const section = $("mp-groups-section");
    const makers = me.role === "mentor" || admin;
    section.hidden = !makers && !state.groups.length;
    $("mp-groups-intro").textContent = admin
      ? "School-wide groups: every mentor may share model practice with them."
      : "Your groups, and the school's. A clip shared with a group reaches its members for as long as they are in it.";
    $("mp-groups").replaceChildren(...state.groups.map((g) => el("li", {}, el("strong", {}, g.name), el("span", { class: "muted small" }, ` · ${g.members.map((m) => m.name).join(", ") || "no members"}${g.owner && g.owner.id !== me.id ? ` · made by ${g.owner.name}` : ""}`))));
    $("mp-group-form").hidden = !makers;
    if (!makers) return;
    const ects = admin ? items(await api("admin/users")).filter((u) => u.role === "ect" && u.active !== false) : me.paired_with || [];
    $("mp-group-members").replaceChildren(
      ...ects.map((e) => el("label", { class: "check" }, el("input", { type: "checkbox", value: e.id }), ` ${e.name}`)),
    );
    if (!$("mp-group-form").dataset.bound) {
      $("mp-group-form").dataset.bound = "1";
      $("mp-group-form").addEventListener("submit", async (event) => {
        event.preventDefault();
        const name = $("mp-group-name").value.trim();
        if (!name) return toast("Give the group a name.", "error");
        const ectIds = [...$("mp-group-members").querySelectorAll("input:checked")].map((i) => i.value);
        try {
          await api("ect-groups", { method: "POST", json: { name, ect_ids: ectIds } });
          toast(`Group “${name}” made.`, "ok");
          $("mp-group-name").value = "";
        } catch (error) {
          toast(error instanceof ApiError ? error.message : String(error), "error");
        }
        await loadGroups();
        await refresh();
      });
    }
  }

  async function setUpMarking() {
    const clips = items(await api("clips")).filter((c) => c.reflection && c.author && c.author.id === me.id);
    const marked = new Set((await api("model-clips?scope=mine")).map((c) => c.clip_id));
    const open = clips.filter((c) => !marked.has(c.id));
    $("mp-mark-section").hidden = false;
    $("mp-mark-clip").replaceChildren(...open.map((c) => el("option", { value: c.id }, `${c.title || "Untitled clip"} · ${c.lesson_title} · ${formatDate(c.created_at)}`)));
    $("mp-mark-form").querySelector("button").disabled = !open.length;
    if ($("mp-mark-form").dataset.bound) return;
    $("mp-mark-form").dataset.bound = "1";
    $("mp-mark-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      await act(() => api(`clips/${$("mp-mark-clip").value}/model`, { method: "PUT", json: { note: $("mp-mark-note").value } }), "Marked as model practice.");
      $("mp-mark-note").value = "";
      await setUpMarking();
    });
  }
});
