// The coach's batch page: start a batch from recordings on this computer (each sent with the
// resumable upload protocol) or from server folders an administrator allowed, watch every file
// go through processing, download the transcripts as a zip, and retry the files that failed.

import { ApiError, api, downloadFile, el, formatBytes, formatDate, onReady, requireUser, sleep, toast } from "./api.js";
import { items } from "./coaching.js";
import { resumableUpload } from "./lessons.js";
import { ZIP_FORMATS, batchBadge, batchPercent, batchSummary, canRetry, defaultBatchName, itemState } from "./batchview.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1500;

let chosen = []; // {file, row, bar, note}
let watching = 0; // which batch's polling loop is current; opening another ends the old one

onReady(async () => {
  const me = await requireUser(["coach", "admin"]);
  $("batch-page").hidden = false;
  if (me.role === "admin") {
    // Administrators do not upload recordings (their lessons would have no teacher).
    $("source-uploads").hidden = true;
  }
  setUpFiles();
  setUpZipFormats();
  $("batch-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void startBatch();
  });
  $("download-zip").addEventListener("click", () => void downloadZip());
  $("retry-failed").addEventListener("click", () => void retryFailed());
  window.addEventListener("popstate", () => {
    const id = batchIdFromPath();
    if (id) void openBatch(id, { push: false });
  });
  await Promise.all([showFolders(), showList()]);
  const wanted = document.body.dataset.batchId || firstListed();
  if (wanted) await openBatch(wanted, { push: false });
});

const batchIdFromPath = () => /^\/batches\/([A-Za-z0-9_-]+)$/.exec(location.pathname)?.[1] || null;
const firstListed = () => $("batch-list").querySelector("[data-batch-id]")?.dataset.batchId || null;

function updateStart() {
  const folders = $("folder-list").querySelectorAll("input:checked").length;
  $("batch-start").disabled = chosen.length + folders === 0;
}

// The file picker and the drop zone both add to the list; each file can be taken off it.
function setUpFiles() {
  const input = $("batch-files");
  const zone = $("batch-dropzone");
  input.addEventListener("change", () => {
    addFiles([...input.files]);
    input.value = "";
  });
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) zone.addEventListener(name, () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    addFiles([...event.dataTransfer.files]);
  });
}

function addFiles(files) {
  for (const file of files) {
    if (chosen.some((c) => c.file.name === file.name && c.file.size === file.size)) continue;
    const bar = el("progress", { max: "100", value: "0", "aria-label": `Upload of ${file.name}` });
    const note = el("span", { class: "muted small file-note" }, formatBytes(file.size));
    const remove = el("button", { type: "button", class: "link-button", "aria-label": `Remove ${file.name}` }, "Remove");
    const row = el("li", { class: "file-row" }, el("span", { class: "file-name" }, file.name), note, bar, remove);
    const entry = { file, row, bar, note, remove };
    remove.addEventListener("click", () => {
      chosen = chosen.filter((c) => c !== entry);
      row.remove();
      describeChosen();
    });
    chosen.push(entry);
    $("batch-file-list").append(row);
  }
  describeChosen();
}

function describeChosen() {
  const total = chosen.reduce((sum, c) => sum + c.file.size, 0);
  $("batch-files-note").textContent = chosen.length
    ? `${chosen.length} file${chosen.length === 1 ? "" : "s"} chosen, ${formatBytes(total)} in all.`
    : "No files chosen. You can pick several at once.";
  updateStart();
}

async function showFolders() {
  const folders = await api("batches/folders").catch(() => []);
  $("folders-none").hidden = folders.length > 0;
  $("folder-list").replaceChildren(
    ...folders.map((folder, n) => {
      const id = `folder-${n}`;
      const box = el("input", { type: "checkbox", id, value: folder.path, disabled: folder.file_count === 0 });
      box.addEventListener("change", updateStart);
      const names = folder.files.slice(0, 4).map((f) => f.name).join(", ");
      const more = folder.file_count > 4 ? ` and ${folder.file_count - 4} more` : "";
      return el(
        "li",
        { class: "check folder" },
        box,
        el(
          "label",
          { for: id },
          el("span", { class: "folder-path" }, folder.path),
          el("span", { class: "muted small folder-files" }, folder.file_count ? `${folder.file_count} file${folder.file_count === 1 ? "" : "s"}: ${names}${more}` : "Empty"),
        ),
      );
    }),
  );
}

async function showList() {
  const batches = items(await api("batches"));
  $("batch-list-empty").hidden = batches.length > 0;
  const current = document.body.dataset.batchId;
  $("batch-list").replaceChildren(
    ...batches.map((batch) => {
      const badge = batchBadge(batch);
      const link = el("a", { href: `/batches/${batch.id}`, "aria-current": batch.id === current ? "true" : null }, batch.name || "Untitled batch");
      link.addEventListener("click", (event) => {
        event.preventDefault();
        void openBatch(batch.id);
      });
      return el(
        "li",
        { class: "batch-entry", dataset: { batchId: batch.id } },
        el("div", {}, link, el("p", { class: "muted small" }, `${formatDate(batch.created_at)} · ${batchSummary(batch)}`)),
        el("span", { class: `badge state-${badge.tone}` }, badge.text),
      );
    }),
  );
}

function fail(message) {
  const box = $("batch-form-error");
  box.textContent = message;
  box.hidden = !message;
}

// Each chosen file goes up in turn (one at a time: the server's disk and the school's network
// are shared), then one request makes the batch of the uploads and the picked folders.
async function startBatch() {
  fail("");
  const paths = [...$("folder-list").querySelectorAll("input:checked")].map((box) => box.value);
  const pending = [...chosen];
  if (!pending.length && !paths.length) return;
  const start = $("batch-start");
  start.disabled = true;
  start.textContent = pending.length ? "Uploading…" : "Starting…";
  const uploadIds = [];
  const refused = [];
  for (const entry of pending) {
    entry.remove.hidden = true;
    try {
      uploadIds.push(
        await resumableUpload(entry.file, {
          onProgress(sent, total, note) {
            entry.bar.value = total ? (sent / total) * 100 : 100;
            entry.note.textContent = note || `${formatBytes(sent)} of ${formatBytes(total)}`;
          },
        }),
      );
      entry.bar.value = 100;
      entry.note.textContent = "Uploaded";
    } catch (error) {
      entry.note.textContent = error.message;
      entry.note.classList.add("error");
      refused.push(entry.file.name);
    }
  }
  if (!uploadIds.length && !paths.length) {
    fail(`Nothing could be uploaded: ${refused.join(", ")}.`);
    start.textContent = "Start batch";
    start.disabled = false;
    return;
  }
  const name = $("batch-name").value.trim() || defaultBatchName(uploadIds.length + paths.length);
  let batch;
  try {
    batch = await api("batches", { method: "POST", json: { name, upload_ids: uploadIds, paths } });
  } catch (error) {
    fail(error.message);
    return;
  } finally {
    start.textContent = "Start batch";
    updateStart();
  }
  chosen = [];
  $("batch-file-list").replaceChildren();
  $("batch-name").value = "";
  for (const box of $("folder-list").querySelectorAll("input:checked")) box.checked = false;
  describeChosen();
  toast(refused.length ? `Batch started without ${refused.join(", ")}.` : "Batch started.");
  showBatch(batch);
  $("batch-detail").scrollIntoView({ block: "start" });
  await openBatch(batch.id);
}

// Show one batch and keep it up to date until every file is transcribed or has failed.
async function openBatch(batchId, { push = true } = {}) {
  const mine = ++watching;
  if (push && location.pathname !== `/batches/${batchId}`) history.pushState({}, "", `/batches/${batchId}`);
  document.body.dataset.batchId = batchId;
  let batch;
  try {
    batch = await api(`batches/${batchId}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      toast("That batch does not exist, or is not yours.", "error");
      $("batch-detail").hidden = true;
      return;
    }
    throw error;
  }
  await showList();
  for (;;) {
    if (mine !== watching) return;
    showBatch(batch);
    if (batch.finished) return;
    await sleep(POLL_MS);
    if (mine !== watching) return;
    batch = await api(`batches/${batchId}`);
    if (batch.finished) await showList();
  }
}

// The open batch's entry in the list follows the polls too, without asking for the list again.
function updateEntry(batch) {
  const entry = $("batch-list").querySelector(`[data-batch-id="${CSS.escape(batch.id)}"]`);
  if (!entry) return;
  const badge = batchBadge(batch);
  entry.querySelector("p").textContent = `${formatDate(batch.created_at)} · ${batchSummary(batch)}`;
  const mark = entry.querySelector(".badge");
  mark.textContent = badge.text;
  mark.className = `badge state-${badge.tone}`;
}

function showBatch(batch) {
  updateEntry(batch);
  const card = $("batch-detail");
  card.hidden = false;
  card.dataset.finished = String(batch.finished);
  $("detail-heading").textContent = batch.name || "Untitled batch";
  $("detail-when").textContent = `Started ${formatDate(batch.created_at)}`;
  const badge = batchBadge(batch);
  $("detail-badge").textContent = badge.text;
  $("detail-badge").className = `badge state-${badge.tone}`;
  $("batch-progress").value = batchPercent(batch);
  $("batch-summary").textContent = batchSummary(batch);
  $("batch-items").replaceChildren(...batch.items.map(itemRow));
  const retryable = batch.items.filter(canRetry).length;
  const retry = $("retry-failed");
  retry.hidden = retryable === 0;
  retry.textContent = retryable === 1 ? "Retry the failed recording" : `Retry ${retryable} failed recordings`;
  $("download-zip").disabled = batch.counts.ready === 0;
  $("zip-note").textContent = batch.counts.ready === 0
    ? "The zip can be downloaded once a recording is transcribed."
    : batch.finished
      ? "The zip holds a transcript of each transcribed recording and manifest.json, which lists any that failed and why."
      : "Recordings still in progress are left out of the zip; manifest.json lists them.";
}

function itemRow(item) {
  const state = itemState(item);
  const name = item.lesson_id && item.status === "ready"
    ? el("a", { href: `/lessons/${item.lesson_id}` }, item.source_name)
    : item.source_name;
  return el(
    "tr",
    { class: `item state-${state.tone}`, dataset: { status: item.status } },
    el("th", { scope: "row", class: "item-name" }, name),
    el("td", {}, el("span", { class: `state-pill state-${state.tone}` }, state.label)),
    el("td", { class: "col-progress" }, el("progress", { max: "100", value: String(state.percent), "aria-label": `${item.source_name}: ${state.percent}%` })),
    el("td", { class: state.tone === "bad" ? "item-detail error-text" : "item-detail" }, state.detail),
  );
}

function setUpZipFormats() {
  $("zip-formats").replaceChildren(
    ...ZIP_FORMATS.map((format) =>
      el("span", { class: "check" },
        el("input", { type: "checkbox", id: `zip-${format.id}`, value: format.id, checked: format.picked }),
        el("label", { for: `zip-${format.id}` }, format.label))),
  );
}

async function downloadZip() {
  const batchId = document.body.dataset.batchId;
  const formats = [...$("zip-formats").querySelectorAll("input:checked")].map((box) => box.value);
  if (!formats.length) return toast("Pick at least one transcript format.", "error");
  const button = $("download-zip");
  button.disabled = true;
  try {
    const name = await downloadFile(`batches/${batchId}/transcripts.zip?formats=${formats.join(",")}`, "transcripts.zip");
    toast(`Downloaded ${name}.`);
  } catch (error) {
    toast(error.message, "error");
  } finally {
    button.disabled = false;
  }
}

async function retryFailed() {
  const batchId = document.body.dataset.batchId;
  const button = $("retry-failed");
  button.disabled = true;
  try {
    const batch = await api(`batches/${batchId}/retry`, { method: "POST" });
    toast(batch.retried === 1 ? "Processing the recording again." : `Processing ${batch.retried} recordings again.`);
  } catch (error) {
    toast(error.message, "error");
  } finally {
    button.disabled = false;
  }
  await openBatch(batchId, { push: false });
}
