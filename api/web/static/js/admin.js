// Administration in the browser: accounts (add, deactivate, reactivate, reset a password),
// mentor–ECT pairings (pair, unpair), the school's data policy as the deployment runs it, and a
// person's data (export, erase), through the same admin API the CLI's commands mirror.

import { api, downloadFile, el, onReady, requireUser, roleName, toast } from "./api.js";
import { showClassList } from "./classlist.js";
import { items } from "./coaching.js";
import { policyLines } from "./policy.js";

const $ = (id) => document.getElementById(id);

// A password only the admin sees, once: 16 random URL-safe characters from the browser's CSPRNG.
function newPassword() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

function showPassword(user, password) {
  const box = $("new-password");
  box.replaceChildren(
    el("strong", {}, `Password for ${user.email}: `),
    el("code", { class: "secret" }, password),
    el("span", { class: "muted small" }, " Shown once: give it to them in person; they can change it after signing in."),
  );
  box.hidden = false;
}

function fail(id, error) {
  const box = $(id);
  box.textContent = error.message || String(error);
  box.hidden = false;
}

onReady(async () => {
  const me = await requireUser(["admin"]);
  showClassList($("class-list"), "school").catch((e) => toast(e.message || String(e), "error"));
  let users = [];

  async function refresh() {
    users = items(await api("admin/users"));
    const body = document.querySelector("#accounts tbody");
    body.replaceChildren();
    for (const user of users) {
      const actions = el("div", { class: "actions" });
      if (user.id !== me.id) {
        const toggle = el("button", { type: "button", class: "small-button" }, user.active ? "Deactivate" : "Reactivate");
        toggle.setAttribute("aria-label", `${user.active ? "Deactivate" : "Reactivate"} ${user.name}`);
        toggle.addEventListener("click", async () => {
          await api(`admin/users/${user.id}`, { method: "PATCH", json: { active: !user.active } });
          toast(`${user.name} ${user.active ? "can no longer sign in" : "can sign in again"}.`);
          await refresh();
        });
        actions.append(toggle);
      }
      const reset = el("button", { type: "button", class: "small-button", "aria-label": `Reset the password of ${user.name}` }, "Reset password");
      reset.addEventListener("click", async () => {
        const password = newPassword();
        await api(`admin/users/${user.id}`, { method: "PATCH", json: { password } });
        showPassword(user, password);
      });
      actions.append(reset);
      // An ECT's induction start sets the rhythm of their observations (weekly, then fortnightly).
      const induction = user.role === "ect" ? el("input", { type: "date", class: "induction", "aria-label": `Induction start of ${user.name}` }) : null;
      if (induction) {
        induction.value = user.induction_start || "";
        induction.addEventListener("change", async () => {
          await api(`admin/users/${user.id}`, { method: "PATCH", json: { induction_start: induction.value || null } });
          toast(induction.value ? `${user.name}'s induction start saved.` : `${user.name}'s induction start cleared.`);
        });
      }
      body.append(el("tr", { class: user.active ? "" : "inactive", dataset: { userId: user.id } },
        el("td", {}, user.name), el("td", {}, user.email), el("td", {}, roleName(user.role), induction ? el("span", { class: "muted small induction-label" }, "Induction start") : null, induction),
        el("td", {}, user.active ? "Yes" : "No (deactivated)"), el("td", {}, actions)));
    }
    const options = (role) => users.filter((u) => u.role === role && u.active)
      .map((u) => el("option", { value: u.id }, `${u.name} (${u.email})`));
    $("pair-mentor").replaceChildren(...options("mentor"));
    $("pair-ect").replaceChildren(...options("ect"));

    const pairings = items(await api("admin/pairings"));
    const list = $("pairings");
    list.replaceChildren();
    for (const p of pairings) {
      const unpair = el("button", { type: "button", class: "small-button", "aria-label": `Unpair ${p.mentor.name} and ${p.ect.name}` }, "Unpair");
      unpair.addEventListener("click", async () => {
        await api(`admin/pairings/${p.id}`, { method: "DELETE" });
        toast(`${p.mentor.name} no longer mentors ${p.ect.name}.`);
        await refresh();
      });
      list.append(el("li", { class: "pairing" }, el("span", {}, el("strong", {}, p.mentor.name), " mentors ", el("strong", {}, p.ect.name)), unpair));
    }
    if (!pairings.length) list.append(el("li", { class: "muted" }, "No pairings yet."));
  }

  $("add-user").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("add-error").hidden = true;
    const name = $("new-name").value.trim();
    const email = $("new-email").value.trim();
    if (!name || !$("new-email").checkValidity() || !email) {
      fail("add-error", new Error("Give a name and a valid email address."));
      return;
    }
    try {
      const created = await api("admin/users", { method: "POST", json: { name, email, role: $("new-role").value } });
      if (created.password) showPassword(created, created.password);
      $("new-name").value = "";
      $("new-email").value = "";
      toast(`Added ${created.name}.`);
      await refresh();
    } catch (error) {
      fail("add-error", error);
    }
  });

  $("add-pairing").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("pair-error").hidden = true;
    try {
      await api("admin/pairings", { method: "POST", json: { mentor_id: $("pair-mentor").value, ect_id: $("pair-ect").value } });
      toast("Paired.");
      await refresh();
    } catch (error) {
      fail("pair-error", error);
    }
  });

  const person = () => users.find((u) => u.id === $("person").value);
  const showPeople = () => {
    const keep = $("person").value;
    $("person").replaceChildren(...users.map((u) => el("option", { value: u.id }, `${u.name} (${u.email})`)));
    if (users.some((u) => u.id === keep)) $("person").value = keep;
    $("erase-confirm").value = "";
  };
  $("person").addEventListener("change", () => {
    $("erase-confirm").value = "";
  });
  $("export-person").addEventListener("click", async () => {
    $("person-error").hidden = true;
    const who = person();
    if (!who) return;
    try {
      await downloadFile(`admin/users/${who.id}/export`, "clipcoach-user.zip");
      toast(`${who.name}'s data downloaded.`);
    } catch (error) {
      fail("person-error", error);
    }
  });
  $("erase-person").addEventListener("click", async () => {
    $("person-error").hidden = true;
    const who = person();
    if (!who) return;
    if ($("erase-confirm").value.trim().toLowerCase() !== who.email.toLowerCase()) {
      fail("person-error", new Error(`Type ${who.email} to confirm erasing ${who.name}.`));
      $("erase-confirm").focus();
      return;
    }
    try {
      const done = await api(`admin/users/${who.id}/erase`, { method: "POST", json: {} });
      toast(`Erased ${who.name}: ${done.lessons} lessons and ${done.clips} clips deleted, ${done.comments_kept} comments kept as a former colleague's.`);
      await refresh();
      showPeople();
    } catch (error) {
      fail("person-error", error);
    }
  });

  try {
    await refresh();
    showPeople();
  } catch (error) {
    fail("accounts-error", error);
  }
  try {
    const policy = await api("admin/policy");
    $("policy").replaceChildren(...policyLines(policy).flatMap(([term, text]) => [el("dt", {}, term), el("dd", {}, text)]));
  } catch (error) {
    fail("policy-error", error);
  }
});
