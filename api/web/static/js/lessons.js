// Getting a lesson in: a resumable, chunked upload through the uploads API, then processing.
//
// The file goes up in chunks, each a PATCH stating the offset it starts at. When the connection
// drops, the page asks the server (HEAD) how many bytes it really has and carries on from there,
// so an interrupted upload never starts over. The upload id is remembered for this tab, so picking
// the same file again after a reload resumes too.

import { API, ApiError, api, authHeaders, sleep } from "./api.js";

// Chunks of about a tenth of the file, between 256 KiB and 8 MiB: small files still show
// progress and lose little to a dropped connection; big ones do not pay per-request overhead.
export function chunkBytesFor(size) {
  return Math.min(8 * 1024 * 1024, Math.max(256 * 1024, Math.ceil(size / 10)));
}
const MAX_RETRIES = 10;
const POLL_MS = 1000;


function rememberKey(file) {
  return `clipcoach.upload:${file.name}:${file.size}:${file.lastModified}`;
}

// One PATCH with upload progress (fetch cannot report upload progress; XHR can).
function sendChunk(uploadId, offset, blob, onBytes) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PATCH", `${API}/uploads/${uploadId}`);
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Upload-Offset", String(offset));
    xhr.setRequestHeader("Content-Type", "application/offset+octet-stream");
    xhr.upload.onprogress = (event) => onBytes(offset + event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        const header = xhr.getResponseHeader("Upload-Offset");
        let next = header === null ? NaN : Number(header);
        if (!Number.isFinite(next)) {
          try {
            next = Number(JSON.parse(xhr.responseText).offset);
          } catch {
            next = offset + blob.size;
          }
        }
        resolve(next);
      } else {
        let detail = xhr.statusText;
        try {
          detail = JSON.parse(xhr.responseText).detail ?? detail;
        } catch {
          /* not JSON */
        }
        reject(new ApiError(xhr.status, detail));
      }
    };
    // A dropped connection: not an answer from the server, so it is worth retrying.
    xhr.onerror = () => reject(new TypeError("network error"));
    xhr.onabort = () => reject(new TypeError("aborted"));
    xhr.send(blob);
  });
}

async function serverOffset(uploadId) {
  const response = await api(`uploads/${uploadId}`, { method: "HEAD", raw: true });
  const header = response.headers.get("Upload-Offset");
  if (header === null) throw new Error("The server did not say how much it has.");
  return Number(header);
}

async function waitForNetwork(attempt) {
  if (!navigator.onLine) {
    await new Promise((resolve) => window.addEventListener("online", resolve, { once: true }));
  }
  await sleep(Math.min(500 * 2 ** attempt, 8000));
}

// Upload `file`; returns the finished upload's id. `onProgress(sent, total, note)`.
export async function resumableUpload(file, { onProgress = () => {}, chunkBytes = chunkBytesFor(file.size) } = {}) {
  const key = rememberKey(file);
  let uploadId = sessionStorage.getItem(key);
  let offset = 0;
  if (uploadId) {
    try {
      offset = await serverOffset(uploadId);
      onProgress(offset, file.size, `Resuming at ${Math.round((offset / file.size) * 100)}%`);
    } catch {
      uploadId = null;
    }
  }
  if (!uploadId) {
    const created = await api("uploads", {
      method: "POST",
      json: { filename: file.name, size: file.size },
    });
    uploadId = created.id;
    offset = created.offset || 0;
    sessionStorage.setItem(key, uploadId);
  }
  let failures = 0;
  while (offset < file.size) {
    try {
      const end = Math.min(offset + chunkBytes, file.size);
      const next = await sendChunk(uploadId, offset, file.slice(offset, end), (sent) =>
        onProgress(sent, file.size),
      );
      offset = next;
      failures = 0;
      onProgress(offset, file.size);
    } catch (error) {
      // The server answered and refused: no retry will help (except a stale offset: 409).
      if (error instanceof ApiError && error.status !== 409 && error.status < 500) throw error;
      failures += 1;
      if (failures > MAX_RETRIES) throw new Error("The connection kept dropping; try again later.");
      onProgress(offset, file.size, "Connection lost, resuming…");
      await waitForNetwork(failures - 1);
      try {
        offset = await serverOffset(uploadId);
        onProgress(offset, file.size, `Resuming from ${Math.round((offset / file.size) * 100)}%`);
      } catch {
        /* still offline: the next turn of the loop retries */
      }
    }
  }
  sessionStorage.removeItem(key);
  return uploadId;
}

const STAGE_NAMES = {
  probe: "Checking the recording",
  normalise: "Making it playable in any browser",
  audio: "Extracting the sound",
  transcribe: "Transcribing",
  thumbnails: "Making thumbnails",
  scenes: "Finding scene changes",
  segment: "Suggesting clips",
};

// Why processing failed, in words a teacher can act on; the code stays on the page for support.
const FAILURES = {
  empty_file: "The file is empty: nothing was copied into it. Copy the recording again and upload it once more.",
  not_media: "This file is not a video or sound recording clipcoach can read.",
  no_streams: "The file has no picture or sound in it.",
  unreadable_media: "The file is incomplete or damaged: it was probably cut off while copying. Copy it again from the camera or phone and upload it once more.",
  too_long: "The recording is longer than this school allows for one lesson.",
  no_audio: "The recording has no sound, so there is nothing to transcribe.",
  no_video: "The recording has no picture.",
  ffmpeg_failed: "The recording could not be converted for the browser. Retrying may help; if not, ask your admin.",
  transcription_failed: "The speech could not be transcribed. Retrying may help.",
  stage_timeout: "Processing took too long and was stopped. Retry when the server is less busy.",
  no_space: "The server ran out of disk space. Ask your admin to free some, then retry.",
  storage_unavailable: "The file store could not be reached. Retry in a few minutes.",
  database_unavailable: "The database could not be reached. Retry in a few minutes.",
};

export function failureReason(lesson) {
  return FAILURES[lesson.error_code] || lesson.error_message || "Processing stopped for a reason clipcoach did not recognise.";
}

export function stageName(stage) {
  return STAGE_NAMES[stage] || stage || "Waiting for a worker";
}

// A lesson's state in one line for the lesson list.
export function statusText(lesson) {
  if (lesson.status === "ready") return "Ready";
  if (lesson.status === "failed") return `Processing failed. ${failureReason(lesson)}`;
  if (lesson.status === "queued") return "Waiting to be processed";
  return `${stageName(lesson.stage)} · ${lesson.progress || 0}%`;
}

// Poll a lesson until it is ready or failed (or `until(lesson)` holds), reporting each state.
export async function watchLesson(lessonId, onState, until = () => false) {
  for (;;) {
    const lesson = await api(`lessons/${lessonId}`);
    onState(lesson);
    if (lesson.status === "ready" || lesson.status === "failed" || until(lesson)) return lesson;
    await sleep(POLL_MS);
  }
}


// A day as England reads it (retention dates are days, whatever the viewer's time zone).
export const englandDay = (iso) => new Date(iso).toLocaleDateString("en-GB", { dateStyle: "long", timeZone: "Europe/London" });

// When the school's retention period deletes the lesson (docs/privacy.md), as its owner and
// mentor are told: null while the school keeps lessons. Dates are in England's time.
export function retentionNotice(lesson) {
  if (!lesson.deletes_on) return null;
  const day = englandDay(lesson.deletes_on);
  const what = `Will be deleted on ${day}, with its transcript, clips and comments`;
  return lesson.deletion_soon ? `${what}. Save anything you need before then, or ask your administrator to keep it longer.` : `${what}.`;
}

// When the school's transcript period deletes (or deleted) the lesson's transcripts: null while
// they are kept with the lesson.
export function transcriptRetentionNotice(lesson) {
  if (lesson.transcripts_deleted_at) {
    return `The transcript was deleted on ${englandDay(lesson.transcripts_deleted_at)} under the school's retention policy; the recording and the coaching are kept.`;
  }
  if (!lesson.transcript_deletes_on) return null;
  return `The transcript will be deleted on ${englandDay(lesson.transcript_deletes_on)}, with its captions, search entries and talk figures; the recording and the coaching stay.`;
}

// When the school's share period removes a live share from its recipient: "" when it does not.
export function shareDeletionNote(share) {
  if (!share.deletes_on || share.revoked_at || share.active === false) return "";
  return ` (removed from them on ${englandDay(share.deletes_on)})`;
}
