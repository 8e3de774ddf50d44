// Notifications: the bell in the page header (unread count, the latest few in a panel) and the
// pieces the full list page (/notifications) shares with it. The API works out what is new for
// the signed-in person (GET /api/v1/notifications); a page only shows it and marks it read.

import { api, el } from "./api.js";
import { formatDay } from "./steps.js";

export const GROUPS = {
  shares: "Shared with you",
  comments: "Comments and replies",
  steps: "Action steps",
  observations: "Observations",
};

// The filter buttons: All, then each group with its unread count.
export function filterChoices(counts, unread) {
  return [
    { group: "all", label: "All", unread },
    ...Object.entries(GROUPS).map(([group, label]) => ({ group, label, unread: counts[group] || 0 })),
  ];
}

const LABELS = { shares: "Shared", comments: "Comment", steps: "Action step", observations: "Observation" };

// The badge: nothing at 0, the number up to 99, then "99+" (it must fit a small circle).
export function badgeText(unread) {
  if (!Number.isFinite(unread) || unread <= 0) return "";
  return unread > 99 ? "99+" : String(Math.floor(unread));
}

// The bell's accessible name, which says the count a sighted person reads off the badge.
export function bellLabel(unread) {
  if (!unread) return "Notifications, none unread";
  return `Notifications, ${unread} unread`;
}

// When it happened, as a person says it: "just now", "5 min ago", "3 h ago", "yesterday",
// "4 days ago", then the date.
export function ago(iso, now = Date.now()) {
  const then = new Date(iso).getTime();
  if (!Number.isFinite(then)) return "";
  const minutes = Math.floor((now - then) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 7) return `${days} days ago`;
  return new Date(then).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}

// The second line of an item: what it is about and, for a date coming round, the date.
export function detailOf(item) {
  const parts = [];
  if (item.excerpt) parts.push(`“${item.excerpt}”`);
  if (item.excerpt && item.subject) parts.push(item.subject);
  else if (item.subject) parts.push(item.kind === "observation_due" ? item.subject : `“${item.subject}”`);
  if (item.due) parts.push(`${item.kind === "step_overdue" ? "was due" : "due"} ${formatDay(item.due)}`);
  return parts.join(" · ");
}

// One item as a list row: a link to where it is, marked read when followed.
export function noticeItem(item, { onOpen, now = Date.now() } = {}) {
  const link = el("a", {
    class: "nt-link",
    href: item.href,
    onclick: (event) => onOpen && onOpen(event, item),
  },
  el("span", { class: `nt-tag tag-${item.group}` }, LABELS[item.group] || item.group),
  el("span", { class: "nt-text" }, item.text),
  detailOf(item) ? el("span", { class: "nt-detail" }, detailOf(item)) : null,
  el("time", { class: "nt-time", datetime: item.at }, ago(item.at, now)),
  );
  return el("li", { class: item.read ? "nt-item read" : "nt-item unread", dataset: { key: item.key } },
    item.read ? null : el("span", { class: "visually-hidden" }, "Unread: "), link);
}

// Following an item marks it read first (briefly: the page it opens does not wait for long).
export async function openItem(event, item) {
  if (item.read || event.button > 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  try {
    await api("notifications/read", { method: "POST", json: { keys: [item.key] } });
  } catch {
    /* the page opens either way */
  }
  location.assign(item.href);
}

const REFRESH_MS = 60_000;

// The bell in the header of every signed-in page.
export function mountBell() {
  const bell = document.getElementById("bell");
  const button = document.getElementById("bell-button");
  const panel = document.getElementById("bell-panel");
  const list = document.getElementById("bell-list");
  const count = document.getElementById("bell-count");
  if (!bell || !button) return;
  bell.hidden = false;

  const render = (listing) => {
    const text = badgeText(listing.unread);
    count.textContent = text;
    count.hidden = !text;
    button.setAttribute("aria-label", bellLabel(listing.unread));
    document.getElementById("bell-read-all").disabled = !listing.unread;
    const items = listing.items.slice(0, 6);
    list.replaceChildren(...(items.length
      ? items.map((item) => noticeItem(item, { onOpen: openItem }))
      : [el("li", { class: "nt-empty" }, "Nothing yet. Clips shared with you, replies and action steps due will show here.")]));
  };
  const refresh = async () => {
    try {
      render(await api("notifications?limit=6"));
    } catch {
      /* the badge waits for the next refresh */
    }
  };
  const close = () => {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
  };
  button.addEventListener("click", () => {
    const opening = panel.hidden;
    panel.hidden = !opening;
    button.setAttribute("aria-expanded", String(opening));
    if (opening) refresh();
  });
  document.getElementById("bell-read-all").addEventListener("click", async () => {
    try {
      render(await api("notifications/read-all", { method: "POST" }));
    } catch {
      /* shown unchanged */
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      close();
      button.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !bell.contains(event.target)) close();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
  document.addEventListener("notifications-changed", (event) => render(event.detail));
  setInterval(() => document.visibilityState === "visible" && refresh(), REFRESH_MS);
  refresh();
}
