// A class list card: pupils' first names and nicknames that transcripts, captions, search and
// shared clips leave out for readers outside the coaching pair (docs/privacy.md, "Pupils'
// names"). `scope` is "mine" (a teacher's own list, on the home page) or "school" (the admin's).

import { api, el } from "./api.js";

export async function showClassList(card, scope) {
  const list = card.querySelector(".class-list-names");
  const form = card.querySelector("form");
  const input = form.querySelector("input");
  const error = card.querySelector(".error");

  function fail(e) {
    error.textContent = e.message || String(e);
    error.hidden = false;
  }

  async function refresh() {
    const names = await api(`pupil-names?scope=${scope}`);
    list.replaceChildren(
      ...names.map((n) =>
        el("li", {},
          el("span", {}, n.name), " ",
          el("button", {
            type: "button", class: "small", "aria-label": `Remove ${n.name}`,
            onclick: async () => {
              error.hidden = true;
              try {
                await api(`pupil-names/${n.id}`, { method: "DELETE" });
                await refresh();
              } catch (e) { fail(e); }
            },
          }, "Remove"),
        ),
      ),
    );
    card.querySelector(".class-list-empty").hidden = names.length > 0;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      await api("pupil-names", { method: "POST", json: { name: input.value, scope } });
      input.value = "";
      await refresh();
    } catch (e) { fail(e); }
  });
  card.hidden = false;
  await refresh();
}
