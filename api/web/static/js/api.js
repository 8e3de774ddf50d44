// The JSON API client every page uses, and small DOM helpers.
//
// The bearer token lives in sessionStorage: one tab, gone when the tab closes, never sent
// automatically (no cookies), so another site cannot make requests on the user's behalf.

const TOKEN_KEY = "clipcoach.token";
export const API = "/api/v1";

export class ApiError extends Error {
  // `code`: the stable name some errors carry (`clip_not_found`, `comment_not_author`).
  constructor(status, detail, code = null) {
    super(typeof detail === "string" ? detail : describeDetail(detail, status));
    this.status = status;
    this.detail = detail;
    this.code = code;
  }
}

function describeDetail(detail, status) {
  if (Array.isArray(detail)) {
    // FastAPI validation errors: [{loc, msg}, ...]
    return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  return `Request failed (${status})`;
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export function authHeaders(extra = {}) {
  const t = token.get();
  return t ? { ...extra, Authorization: `Bearer ${t}` } : { ...extra };
}

// fetch with the bearer token; JSON in and out unless told otherwise.
export async function api(path, { method = "GET", json, body, headers = {}, raw = false, signal } = {}) {
  const init = { method, headers: authHeaders(headers), signal, cache: "no-store" };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(path.startsWith("/") ? path : `${API}/${path}`, init);
  if (response.status === 401 && token.get()) {
    token.clear();
    goToSignIn();
    throw new ApiError(401, "Your session has ended; please sign in again.");
  }
  if (!response.ok) {
    let detail = response.statusText;
    let code = null;
    try {
      const body = await response.json();
      detail = body.detail ?? detail;
      code = body.code ?? null;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail, code);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

// Save what an API route answers as a file (a CSV, a zip): the name the server gives it in
// Content-Disposition, or `fallback`.
export async function downloadFile(path, fallback) {
  const response = await api(path, { raw: true });
  const blob = await response.blob();
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || fallback;
  const link = el("a", { href: URL.createObjectURL(blob), download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
  return name;
}

export function goToSignIn() {
  const next = location.pathname + location.search;
  location.assign(`/signin?next=${encodeURIComponent(next)}`);
}

// The signed-in user, or a redirect to the sign-in page. Also fills the top bar.
export async function requireUser(roles = null) {
  if (!token.get()) {
    goToSignIn();
    return new Promise(() => {}); // never resolves: the page is leaving
  }
  const me = await api("auth/me");
  const nav = document.getElementById("topnav");
  nav.hidden = false;
  for (const link of nav.querySelectorAll("[data-roles]")) {
    link.hidden = !link.dataset.roles.split(" ").includes(me.role);
  }
  document.getElementById("who").textContent = `${me.name} · ${roleName(me.role)}`;
  document.getElementById("signout").addEventListener("click", signOut);
  import("./notices.js").then((notices) => notices.mountBell()).catch(() => {
    /* a page works without its bell */
  });
  if (roles && !roles.includes(me.role)) {
    throw new ApiError(403, "This page is not for your role.");
  }
  return me;
}

async function signOut() {
  try {
    await api("auth/logout", { method: "POST" });
  } catch {
    /* the token is dropped either way */
  }
  token.clear();
  location.assign("/signin");
}

export function roleName(role) {
  return { ect: "ECT", mentor: "Mentor", admin: "Admin", coach: "Coach" }[role] || role;
}

// Build an element: el("a", {href: "/x", class: "c"}, "text", child). Text is never parsed as HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, value);
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/* Only ever go back to a page of this site. `next` is parsed as the browser will parse it
   (backslashes as slashes, tabs and newlines dropped, `https:host`), and kept only if it
   lands on this origin: a prefix test let `/\\evil` and `/%5Cevil` leave the site. */
export function sameOriginPath(next, origin = location.origin) {
  if (!next) return "/";
  let target;
  try {
    target = new URL(next, origin);
  } catch {
    return "/";
  }
  if (target.origin !== origin) return "/";
  return target.pathname + target.search + target.hash;
}

// Wait `ms` milliseconds (retry loops and polls).
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function formatTime(seconds) {
  if (!Number.isFinite(seconds)) return "–:––";
  const s = Math.max(0, seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  const tenths = Math.floor((s * 10) % 10);
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(sec).padStart(2, "0")}.${tenths}`;
}

// "26 bytes", "412 KB", "1.3 GB": sizes as a person reads them, never "0 KB".
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1000) return `${n} byte${n === 1 ? "" : "s"}`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.dataset.kind = kind;
  box.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove("show"), 4000);
}

// Show an error on the page instead of failing silently.
export function showFatal(error) {
  const main = document.getElementById("main");
  const box = el("p", { class: "error", role: "alert" }, error.message || String(error));
  main.append(box);
}

export function onReady(fn) {
  const run = () => fn().catch((error) => {
    if (error instanceof ApiError && error.status === 401) return;
    console.error(error);
    showFatal(error);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
}
