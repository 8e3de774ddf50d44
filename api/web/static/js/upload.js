// The upload page: pick or drop a recording, watch it go up and then through processing.

import { api, formatBytes, onReady, requireUser, toast } from "./api.js";
import { failureReason, resumableUpload, stageName, watchLesson } from "./lessons.js";

onReady(async () => {
  const me = await requireUser(["ect", "mentor"]);
  const form = document.getElementById("upload-form");
  const input = document.getElementById("file-input");
  const dropzone = document.getElementById("dropzone");
  const start = document.getElementById("upload-start");
  const fileName = document.getElementById("file-name");
  let file = null;

  if (me.role === "mentor") {
    document.getElementById("upload-intro").textContent =
      "A lesson you upload is yours; clips from it cannot be shared with an ECT. Your ECTs upload their own lessons.";
  }

  const choose = (picked) => {
    file = picked || null;
    fileName.textContent = file ? `${file.name} (${formatBytes(file.size)})` : "No file chosen.";
    start.disabled = !file;
    const title = document.getElementById("lesson-title");
    if (file && !title.value) title.value = file.name.replace(/\.[^.]+$/, "");
  };
  input.addEventListener("change", () => choose(input.files[0]));
  for (const name of ["dragenter", "dragover"]) {
    dropzone.addEventListener(name, (event) => {
      event.preventDefault();
      dropzone.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    dropzone.addEventListener(name, () => dropzone.classList.remove("over"));
  }
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    choose(event.dataTransfer.files[0]);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file) return;
    start.disabled = true;
    input.disabled = true;
    const card = document.getElementById("progress-card");
    card.hidden = false;
    const bar = document.getElementById("upload-progress");
    const status = document.getElementById("upload-status");
    const processBar = document.getElementById("process-progress");
    const processStatus = document.getElementById("process-status");
    const failure = document.getElementById("process-error");
    failure.hidden = true;
    try {
      const uploadId = await resumableUpload(file, {
        onProgress(sent, total, note) {
          bar.value = total ? (sent / total) * 100 : 100;
          status.textContent = note || `${formatBytes(sent)} of ${formatBytes(total)} sent`;
        },
      });
      bar.value = 100;
      status.textContent = "Upload complete.";
      const body = { upload_id: uploadId, title: document.getElementById("lesson-title").value.trim() };
      const lesson = await api("lessons", { method: "POST", json: body });
      document.body.dataset.lessonId = lesson.id;
      const final = await watchLesson(lesson.id, (state) => {
        processBar.value = state.progress || 0;
        processStatus.textContent =
          state.status === "queued"
            ? "Waiting for a worker…"
            : state.status === "processing"
              ? `${stageName(state.stage)}… ${state.progress || 0}%`
              : "";
      });
      if (final.status === "failed") {
        failure.textContent = `Processing failed. ${failureReason(final)}`;
        failure.hidden = false;
        processStatus.textContent = "";
      } else {
        processBar.value = 100;
        processStatus.textContent = "Ready.";
        const link = document.getElementById("open-lesson");
        link.href = `/lessons/${final.id}`;
        document.getElementById("ready-link").hidden = false;
        link.focus();
        toast("Your lesson is ready.");
      }
    } catch (error) {
      failure.textContent = error.message;
      failure.hidden = false;
      start.disabled = false;
      input.disabled = false;
    }
  });
});
