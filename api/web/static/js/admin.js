// A minimal accounts view for admins: who has an account, in which role, and who mentors whom.

import { api, el, onReady, requireUser, roleName } from "./api.js";
import { items } from "./coaching.js";

onReady(async () => {
  await requireUser(["admin"]);
  const body = document.querySelector("#accounts tbody");
  try {
    const users = items(await api("admin/users"));
    const names = new Map(users.map((u) => [u.id, u.name]));
    for (const user of users) {
      body.append(el("tr", {}, el("td", {}, user.name), el("td", {}, user.email), el("td", {}, roleName(user.role)), el("td", {}, user.active === false ? "No" : "Yes")));
    }
    const pairings = items(await api("admin/pairings").catch(() => []));
    const list = document.getElementById("pairings");
    for (const p of pairings) {
      list.append(el("li", {}, `${p.mentor_name || names.get(p.mentor_id) || p.mentor_id} mentors ${p.ect_name || names.get(p.ect_id) || p.ect_id}`));
    }
    if (!pairings.length) list.append(el("li", { class: "muted" }, "No pairings yet."));
  } catch (error) {
    const box = document.getElementById("accounts-error");
    box.textContent = error.message;
    box.hidden = false;
  }
});
