// voicescribe's Mini App: uploads (resumable, several at once) and the transcript history.
// Plain script, no build step. Telegram passes initData and the theme in the URL fragment
// (tgWebAppData, tgWebAppThemeParams); Telegram's own script is used when present, never
// required. Every API call carries initData; the server decides who the user is.
"use strict";

const CHUNK_BYTES = 4 * 1024 * 1024;
const MAX_RETRIES = 30;
const POLL_MS = 1500;
const FINISHED = ["delivered", "failed", "no_speech"];

const launch = new URLSearchParams(location.hash.slice(1));
const tg = window.Telegram && window.Telegram.WebApp;
const initData = (tg && tg.initData) || launch.get("tgWebAppData") || "";
let texts = {};

function userLanguage() {
  try {
    const user = JSON.parse(new URLSearchParams(initData).get("user") || "{}");
    if (user.language_code) return user.language_code;
  } catch (e) { /* no user: the browser's language */ }
  return (navigator.language || "en").slice(0, 2);
}

function say(key, values) {
  let text = texts[key] || key;
  for (const [name, value] of Object.entries(values || {})) {
    text = text.split("{" + name + "}").join(String(value));
  }
  return text;
}

function applyTheme() {
  let theme = (tg && tg.themeParams) || null;
  if (!theme) {
    try { theme = JSON.parse(launch.get("tgWebAppThemeParams") || "null"); } catch (e) { theme = null; }
  }
  for (const [name, value] of Object.entries(theme || {})) {
    if (/^#[0-9a-fA-F]{3,8}$/.test(String(value))) {
      document.documentElement.style.setProperty("--tg-theme-" + name.replace(/_/g, "-"), value);
    }
  }
}

async function api(method, path, body, headers) {
  const response = await fetch(path, {
    method,
    body,
    headers: Object.assign({ Authorization: "tma " + initData }, headers || {}),
  });
  if (response.status === 401) { showAuthError(); throw new Error("unauthorized"); }
  return response;
}

function showAuthError() {
  document.getElementById("content").hidden = true;
  document.getElementById("auth-error").hidden = false;
}

function humanBytes(bytes) {
  if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
  return Math.max(1, Math.round(bytes / 1024)) + " KB";
}

function humanSeconds(seconds) {
  if (!isFinite(seconds)) return "…";
  if (seconds < 60) return say("seconds", { count: Math.max(1, Math.round(seconds)) });
  return say("minutes", { count: Math.round(seconds / 60) });
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

// One file's upload: its row in the list, and the loop that sends it chunk by chunk.
class Upload {
  constructor(file) {
    this.file = file;
    this.key = "upload:" + [file.name, file.size, file.lastModified].join(":");
    this.cancelled = false;
    this.xhr = null;
    this.row = document.createElement("li");
    this.row.className = "upload";
    this.row.innerHTML =
      '<div class="row"><span class="name"></span><button class="cancel"></button></div>' +
      '<progress max="100" value="0"></progress><div class="meta status" aria-live="polite"></div>';
    this.row.querySelector(".name").textContent = file.name;
    const cancel = this.row.querySelector(".cancel");
    cancel.textContent = say("cancel");
    cancel.addEventListener("click", () => this.cancel());
    this.bar = this.row.querySelector("progress");
    this.status = this.row.querySelector(".status");
    document.getElementById("uploads").appendChild(this.row);
  }

  show(text) { this.status.textContent = text; }

  async run() {
    try {
      const record = await this.open();
      if (!record) return;
      await this.send(record);
    } catch (error) {
      if (!this.cancelled && String(error.message) !== "unauthorized") this.show(say("error"));
    }
  }

  // A known upload of this same file (a closed app, a reload) is resumed; else a new one.
  async open() {
    const known = localStorage.getItem(this.key);
    if (known) {
      const response = await api("GET", "/api/uploads/" + encodeURIComponent(known));
      if (response.ok) {
        const record = await response.json();
        if (!record.job_id) return record;
      }
      localStorage.removeItem(this.key);
    }
    const response = await api("POST", "/api/uploads", JSON.stringify({
      name: this.file.name, size: this.file.size, type: this.file.type || null,
    }), { "Content-Type": "application/json" });
    if (!response.ok) {
      const refusal = await response.json().catch(() => ({}));
      const maxMb = Math.floor((window.maxBytes || 0) / 1024 / 1024);
      this.show(say(refusal.error === "too_large" ? "too_large" :
        refusal.error === "not_a_recording" ? "not_a_recording" : "error", { max_mb: maxMb }));
      this.row.querySelector(".cancel").hidden = true;
      return null;
    }
    const record = await response.json();
    localStorage.setItem(this.key, record.upload_id);
    return record;
  }

  async send(record) {
    this.id = record.upload_id;
    let received = record.received;
    let failures = 0;
    this.started = performance.now();
    this.startedAt = received;
    while (received < this.file.size && !this.cancelled) {
      try {
        const answer = await this.put(received);
        if (answer.status === 200 || answer.status === 409) {
          failures = 0;
          const body = JSON.parse(answer.body);
          received = body.received;
          if (body.job_id || body.refusal) { this.submitted(body); return; }
        } else if (answer.status >= 400 && answer.status < 500 && answer.status !== 408) {
          this.show(say(answer.status === 413 ? "too_large" : "error",
            { max_mb: Math.floor((window.maxBytes || 0) / 1024 / 1024) }));
          return;
        } else {
          throw new Error("status " + answer.status);
        }
      } catch (error) {
        if (this.cancelled) return;
        failures += 1;
        if (failures > MAX_RETRIES) throw error;
        this.show(say("resuming"));
        await sleep(Math.min(10000, 300 * 2 ** Math.min(failures, 6)));
        received = await this.stored(received);
      }
    }
  }

  // How much the server holds now (after a dropped connection); the old value if unknown.
  async stored(fallback) {
    try {
      const response = await api("GET", "/api/uploads/" + encodeURIComponent(this.id));
      if (response.ok) {
        const record = await response.json();
        if (record.job_id) { this.submitted(record); return this.file.size; }
        return record.received;
      }
    } catch (error) { if (String(error.message) === "unauthorized") throw error; }
    return fallback;
  }

  // One chunk, with progress events (fetch has none for uploads).
  put(offset) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.xhr = xhr;
      xhr.open("PUT", "/api/uploads/" + encodeURIComponent(this.id) + "?offset=" + offset);
      xhr.setRequestHeader("Authorization", "tma " + initData);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = (event) => this.progress(offset + event.loaded);
      xhr.onload = () => {
        if (xhr.status === 401) { showAuthError(); reject(new Error("unauthorized")); return; }
        resolve({ status: xhr.status, body: xhr.responseText });
      };
      xhr.onerror = () => reject(new Error("network"));
      xhr.onabort = () => reject(new Error("aborted"));
      xhr.send(this.file.slice(offset, Math.min(this.file.size, offset + CHUNK_BYTES)));
    });
  }

  progress(sent) {
    const percent = Math.floor((100 * sent) / this.file.size);
    this.bar.value = percent;
    const seconds = (performance.now() - this.started) / 1000;
    const speed = seconds > 0 ? (sent - this.startedAt) / seconds : 0;
    const left = speed > 0 ? (this.file.size - sent) / speed : Infinity;
    this.show(say("progress", { percent, speed: humanBytes(speed), left: humanSeconds(left) }));
    this.row.dataset.sent = String(sent);
  }

  async submitted(record) {
    localStorage.removeItem(this.key);
    this.bar.value = 100;
    this.row.querySelector(".cancel").hidden = true;
    if (record.refusal) { this.show(record.refusal); this.row.dataset.state = "refused"; return; }
    this.show(say("transcribing"));
    this.row.dataset.state = "transcribing";
    let status = record.job_status;
    while (!FINISHED.includes(status)) {
      await sleep(POLL_MS);
      const response = await api("GET", "/api/uploads/" + encodeURIComponent(this.id));
      if (response.status === 404) { status = "delivered"; break; }  // swept: job settled
      if (response.ok) status = (await response.json()).job_status;
    }
    this.row.dataset.state = status;
    this.show(say(status === "delivered" ? "done" : "failed"));
    loadHistory();
  }

  async cancel() {
    this.cancelled = true;
    if (this.xhr) this.xhr.abort();
    localStorage.removeItem(this.key);
    if (this.id) await api("DELETE", "/api/uploads/" + encodeURIComponent(this.id)).catch(() => null);
    this.show(say("cancelled"));
    this.row.dataset.state = "cancelled";
    this.row.querySelector(".cancel").hidden = true;
  }
}

function selectTab(name) {
  for (const tab of ["upload", "history"]) {
    const selected = tab === name;
    const button = document.getElementById("tab-" + tab);
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    document.getElementById("panel-" + tab).hidden = !selected;
  }
  if (name === "history") loadHistory();
}

let historyLoading = null;

// One load at a time: a finished upload and the tab may both ask for the list.
function loadHistory() {
  if (!historyLoading) historyLoading = drawHistory().finally(() => { historyLoading = null; });
  return historyLoading;
}

async function drawHistory() {
  const response = await api("GET", "/api/history");
  if (!response.ok) return;
  const items = (await response.json()).items.filter((item) => item.status === "delivered");
  const list = document.getElementById("history");
  list.replaceChildren();
  document.getElementById("history-empty").hidden = items.length > 0;
  for (const item of items) {
    const row = document.createElement("li");
    const open = document.createElement("button");
    const when = new Date(item.created_at * 1000).toLocaleString(userLanguage());
    open.innerHTML = '<span class="meta"></span><br><span class="words"></span>';
    open.querySelector(".meta").textContent = when + " · " + humanSeconds(item.duration_seconds);
    open.querySelector(".words").textContent = item.first_words;
    open.addEventListener("click", () => openTranscript(item.job_id));
    row.appendChild(open);
    list.appendChild(row);
  }
  document.getElementById("panel-history").dataset.loaded = String(items.length);
}

function fileLink(element, text, name, type) {
  const old = element.getAttribute("href");
  if (old) URL.revokeObjectURL(old);
  element.href = URL.createObjectURL(new Blob([text], { type }));
  element.download = name;
}

async function openTranscript(jobId) {
  const response = await api("GET", "/api/history/" + encodeURIComponent(jobId));
  if (!response.ok) return;
  const stored = await response.json();
  const base = (stored.file_name || "transcript").replace(/\.[^.]*$/, "") || "transcript";
  document.getElementById("history").hidden = true;
  const view = document.getElementById("transcript");
  view.hidden = false;
  document.getElementById("transcript-title").textContent = stored.file_name || stored.first_words;
  document.getElementById("transcript-text").textContent = stored.text;
  fileLink(document.getElementById("download-txt"), stored.text, base + ".txt", "text/plain");
  const srt = document.getElementById("download-srt");
  srt.hidden = !stored.srt;
  if (stored.srt) fileLink(srt, stored.srt, base + ".srt", "application/x-subrip");
  document.getElementById("transcript-text").focus();
}

function wireTabs() {
  const tabs = ["upload", "history"];
  for (const name of tabs) {
    const tab = document.getElementById("tab-" + name);
    tab.addEventListener("click", () => selectTab(name));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      const next = tabs[(tabs.indexOf(name) + 1) % tabs.length];
      selectTab(next);
      document.getElementById("tab-" + next).focus();
    });
  }
  document.getElementById("back").addEventListener("click", () => {
    document.getElementById("transcript").hidden = true;
    document.getElementById("history").hidden = false;
  });
  document.getElementById("copy").addEventListener("click", async (event) => {
    const text = document.getElementById("transcript-text").textContent;
    try { await navigator.clipboard.writeText(text); event.target.textContent = say("copied"); }
    catch (error) { /* no clipboard here: the text can still be selected */ }
  });
  document.getElementById("files").addEventListener("change", (event) => {
    for (const file of event.target.files) new Upload(file).run();
    event.target.value = "";
  });
}

async function main() {
  applyTheme();
  const language = userLanguage();
  document.documentElement.lang = language;
  texts = await (await fetch("/api/texts?lang=" + encodeURIComponent(language))).json();
  for (const element of document.querySelectorAll("[data-text]")) {
    element.textContent = say(element.dataset.text);
  }
  if (tg && tg.ready) { tg.ready(); if (tg.expand) tg.expand(); }
  if (!initData) { showAuthError(); document.body.dataset.ready = "auth-error"; return; }
  try {
    const response = await api("GET", "/api/history");
    if (!response.ok) throw new Error("status " + response.status);
    window.maxBytes = Number(response.headers.get("X-Max-Upload-Bytes") || 0);
  } catch (error) { document.body.dataset.ready = "auth-error"; return; }
  document.getElementById("hint").textContent =
    say("hint", { max_mb: Math.floor(window.maxBytes / 1024 / 1024) });
  document.getElementById("content").hidden = false;
  wireTabs();
  document.body.dataset.ready = "yes";
}

main();
