// The notifications page: everything new for the signed-in person, by group, newest first;
// follow one to open it (marked read), or mark all read.

import { api, el, onReady, requireUser } from "./api.js";
import { GROUPS, filterChoices, noticeItem, openItem } from "./notices.js";

const $ = (id) => document.getElementById(id);

let listing = { unread: 0, counts: {}, items: [] };
let shown = "all";

function render() {
  const filter = $("notices-filter");
  filter.replaceChildren(...filterChoices(listing.counts, listing.unread).map((choice) => el("button", {
    type: "button",
    class: choice.group === shown ? "chip selected" : "chip",
    "aria-pressed": String(choice.group === shown),
    onclick: () => {
      shown = choice.group;
      render();
    },
  }, choice.label, choice.unread ? el("span", { class: "chip-count" }, String(choice.unread)) : null)));
  const items = listing.items.filter((item) => shown === "all" || item.group === shown);
  const list = $("notices-list");
  list.replaceChildren(...items.map((item) => noticeItem(item, { onOpen: openItem })));
  list.hidden = !items.length;
  const status = $("notices-status");
  if (!listing.items.length) status.textContent = "Nothing yet. Clips shared with you, replies and action steps due will show here.";
  else if (!items.length) status.textContent = `Nothing in “${GROUPS[shown]}”.`;
  else status.textContent = listing.unread ? `${listing.unread} unread.` : "All read.";
  $("notices-read-all").disabled = !listing.unread;
  document.dispatchEvent(new CustomEvent("notifications-changed", { detail: listing }));
}

onReady(async () => {
  await requireUser();
  $("notices-read-all").addEventListener("click", async () => {
    listing = await api("notifications/read-all", { method: "POST" });
    render();
  });
  listing = await api("notifications?limit=200");
  render();
});
