// mcrsearch web page: search by text, file, microphone or "more like this"; show, play and turn results;
// browse the collection and follow index jobs. Plain ES modules, everything served by the same server.

import { recordWav } from "./recorder.js";

const $ = (sel, root = document) => root.querySelector(sel);
const DEFAULT_K = 20;
const TARGETS = ["any", "image", "audio", "3d", "text"];
const EXT = {
  image: [".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"],
  audio: [".wav", ".flac", ".ogg", ".mp3"],
  points: [".obj", ".stl", ".off", ".glb", ".gltf", ".ply", ".xyz", ".pts", ".npy", ".npz"],
};
const COMPACT = new Intl.NumberFormat(undefined, { notation: "compact" });
const MODALITY_LABEL = { image: "Image", audio: "Sound", "3d": "3D", text: "Text" };
const FIELD_LABEL = { image: "Image", audio: "Sound", points: "3D" };

// The query being shown. Files cannot go into a URL, so they live here for "load more".
const state = {
  text: "",
  like: null,            // {id, name}
  files: [],             // [{field: "audio"|"image"|"points", file: File}]
  target: "any",
  minScore: null,
  k: DEFAULT_K,
  offset: 0,
  seq: 0,                // guards against late answers of superseded searches
};

// ------------------------------------------------------------------------------------------ helpers

async function api(url, options = {}) {
  const res = await fetch(url, options);
  const isJson = (res.headers.get("content-type") || "").includes("json");
  const body = isJson ? await res.json() : null;
  if (!res.ok) {
    const detail = body && body.detail;
    throw new Error(typeof detail === "string" ? detail : `The server answered ${res.status}.`);
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

let toastTimer = null;
function toast(message) {
  const box = $("#toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

function fileField(file) {
  const name = file.name.toLowerCase();
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".")) : "";
  for (const [field, list] of Object.entries(EXT)) if (list.includes(ext)) return field;
  if (file.type.startsWith("image/")) return "image";
  if (file.type.startsWith("audio/")) return "audio";
  if (ext === ".txt" || file.type === "text/plain") return "text";
  return null;
}

function formatDuration(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function formatBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

// ------------------------------------------------------------------------------------------ cards

function describe(item) {
  const d = item.details || {};
  if (item.modality === "image" && d.width) return `${d.width}×${d.height}`;
  if (item.modality === "audio" && d.duration !== undefined) return formatDuration(d.duration);
  if (item.modality === "3d" && d.point_count) return `${COMPACT.format(d.point_count)} points`;
  if (item.modality === "text") {
    const words = (d.text || d.caption || "").split(/\s+/).filter(Boolean).length;
    return words ? `${words} word${words === 1 ? "" : "s"}` : "";
  }
  return MODALITY_LABEL[item.modality] || item.modality;
}

function scoreBadge(hit) {
  if (typeof hit.score !== "number") return null;
  const cos = typeof hit.cosine === "number" ? hit.cosine.toFixed(4) : "?";
  const strength = hit.score >= 3 ? "high" : hit.score >= 1.5 ? "mid" : "low";
  return el("span", { class: `score ${strength}`, title: `calibrated score ${hit.score.toFixed(3)} · raw cosine ${cos}` },
    hit.score.toFixed(2));
}

function mediaBlock(item) {
  if (item.modality === "image") {
    return el("a", { class: "media image", href: item.media_url, target: "_blank", rel: "noopener", title: "Open the full image" },
      el("img", { src: item.thumb_url, alt: item.name, loading: "lazy", decoding: "async" }));
  }
  if (item.modality === "audio") {
    return el("div", { class: "media audio" },
      el("img", { class: "wave", src: item.thumb_url, alt: "", loading: "lazy", decoding: "async" }),
      el("audio", { controls: true, preload: "metadata", src: item.media_url }));
  }
  if (item.modality === "3d") {
    return el("button", { type: "button", class: "media shape", title: "Turn it in 3D", onclick: () => openViewer(item) },
      el("img", { src: item.thumb_url, alt: item.name, loading: "lazy", decoding: "async" }),
      el("span", { class: "badge-3d" }, "3D"));
  }
  const d = item.details || {};
  const text = d.text || d.caption || item.name;
  return el("blockquote", { class: "media text" }, text);
}

function card(item) {
  const actions = el("div", { class: "card-actions" },
    el("button", { type: "button", class: "link", onclick: () => moreLikeThis(item) }, "More like this"));
  return el("article", { class: `card ${item.modality === "3d" ? "shape" : item.modality}`, dataset: { id: item.id, modality: item.modality } },
    mediaBlock(item),
    el("div", { class: "card-body" },
      el("div", { class: "card-title" },
        el("span", { class: "name", title: item.path }, item.name),
        scoreBadge(item)),
      el("div", { class: "card-meta" },
        el("span", { class: `pill ${item.modality === "3d" ? "shape" : item.modality}` }, MODALITY_LABEL[item.modality] || item.modality),
        el("span", { class: "muted" }, describe(item)),
        actions)));
}

// ------------------------------------------------------------------------------------------ search

function hasQuery() {
  return Boolean(state.text.trim() || state.like || state.files.length);
}

function searchParams(offset) {
  const params = new URLSearchParams();
  if (state.text.trim()) params.append("text", state.text.trim());
  if (state.like) params.append("like", state.like.id);
  params.set("target", state.target);
  params.set("k", String(state.k));
  if (offset) params.set("offset", String(offset));
  if (state.minScore !== null) params.set("min_score", String(state.minScore));
  return params;
}

function request(offset) {
  const params = searchParams(offset);
  if (!state.files.length) return api(`/api/search?${params}`);
  const form = new FormData();
  for (const [key, value] of params) form.append(key, value);
  for (const { field, file } of state.files) form.append(field, file, file.name);
  return api("/api/search", { method: "POST", body: form });
}

function syncUrl(push) {
  const params = searchParams(0);
  if (params.get("target") === "any") params.delete("target");
  if (params.get("k") === String(DEFAULT_K)) params.delete("k");
  const url = `/${params.toString() ? `?${params}` : ""}`;
  if (url === location.pathname + location.search && !location.hash) return;
  (push ? history.pushState : history.replaceState).call(history, null, "", url);
}

async function search({ append = false, push = true } = {}) {
  renderChips();
  renderControls();
  if (!hasQuery()) {
    $("#results").replaceChildren();
    $("#more").hidden = true;
    $("#status").textContent = "";
    $("#empty").hidden = false;
    if (push) syncUrl(true);
    return;
  }
  const seq = ++state.seq;
  const offset = append ? state.offset + state.k : 0;
  if (!append) syncUrl(push);
  $("#empty").hidden = true;
  document.body.classList.add("busy");
  $("#status").textContent = "Searching…";
  try {
    const answer = await request(offset);
    if (seq !== state.seq) return;
    state.offset = offset;
    const grid = $("#results");
    const cards = answer.hits.map(card);
    if (append) grid.append(...cards); else grid.replaceChildren(...cards);
    const shown = grid.children.length;
    $("#status").textContent = shown
      ? `${shown} result${shown === 1 ? "" : "s"} · ${answer.took_ms.toFixed(0)} ms`
      : "No results. Lower the minimum score or try another query.";
    $("#more").hidden = !answer.more;
  } catch (err) {
    if (seq !== state.seq) return;
    $("#status").textContent = "";
    toast(err.message);
  } finally {
    if (seq === state.seq) document.body.classList.remove("busy");
  }
}

function moreLikeThis(item) {
  state.like = { id: item.id, name: item.name };
  state.text = "";
  state.files = [];
  $("#q").value = "";
  showView("search");
  window.scrollTo({ top: 0, behavior: "smooth" });
  search();
}

function addFile(file) {
  const field = fileField(file);
  if (field === "text") {
    file.text().then((text) => { state.text = text.trim(); $("#q").value = state.text; search(); });
    return;
  }
  if (!field) {
    toast(`${file.name}: this file type cannot be used as a query.`);
    return;
  }
  state.files = state.files.filter((f) => f.field !== field).concat([{ field, file }]);
  state.like = null;
  showView("search");
  search();
}

function renderChips() {
  const chips = $("#chips");
  const list = [];
  for (const entry of state.files) {
    list.push(el("span", { class: `chip ${entry.field}` },
      el("span", { class: "chip-kind" }, FIELD_LABEL[entry.field]),
      el("span", { class: "chip-name", title: entry.file.name }, entry.file.name),
      el("button", { type: "button", "aria-label": `Remove ${entry.file.name}`, onclick: () => {
        state.files = state.files.filter((f) => f !== entry);
        search();
      } }, "×")));
  }
  if (state.like) {
    list.push(el("span", { class: "chip like" },
      el("span", { class: "chip-kind" }, "Like"),
      el("span", { class: "chip-name", title: state.like.name || state.like.id }, state.like.name || state.like.id),
      el("button", { type: "button", "aria-label": "Remove the example", onclick: () => { state.like = null; search(); } }, "×")));
  }
  chips.replaceChildren(...list);
}

function renderControls() {
  for (const button of $("#target").children) {
    button.setAttribute("aria-checked", String(button.dataset.target === state.target));
  }
  const slider = $("#min-score");
  slider.value = state.minScore === null ? slider.min : String(state.minScore);
  $("#min-score-value").textContent = state.minScore === null ? "off" : state.minScore.toFixed(2);
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  state.text = params.getAll("text").join(" ");
  const like = params.get("like");
  state.like = like ? { id: like, name: state.like && state.like.id === like ? state.like.name : null } : null;
  const target = (params.get("target") || "any").toLowerCase();
  state.target = TARGETS.includes(target) ? target : "any";
  const min = parseFloat(params.get("min_score"));
  state.minScore = Number.isFinite(min) ? min : null;
  const k = parseInt(params.get("k"), 10);
  state.k = Number.isFinite(k) && k > 0 && k <= 200 ? k : DEFAULT_K;
  state.files = [];
  $("#q").value = state.text;
  if (state.like && !state.like.name) {
    const id = state.like.id;
    api(`/api/items/${encodeURIComponent(id)}`).then((item) => {
      if (state.like && state.like.id === id) { state.like.name = item.name; renderChips(); }
    }).catch(() => {});
  }
}

function setupSearch() {
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.text = $("#q").value;
    search();
  });
  $("#target").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-target]");
    if (!button) return;
    state.target = button.dataset.target;
    search();
  });
  let sliderTimer = null;
  $("#min-score").addEventListener("input", (event) => {
    const value = parseFloat(event.target.value);
    state.minScore = value <= parseFloat(event.target.min) ? null : value;
    $("#min-score-value").textContent = state.minScore === null ? "off" : state.minScore.toFixed(2);
    clearTimeout(sliderTimer);
    sliderTimer = setTimeout(() => search({ push: false }), 250);
  });
  $("#more").addEventListener("click", () => search({ append: true }));
  $("#attach").addEventListener("click", () => $("#file").click());
  $("#file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) addFile(file);
    event.target.value = "";
  });
  setupDrop();
  setupMic();
}

function setupDrop() {
  const overlay = $("#drop");
  let depth = 0;
  const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
  window.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener("dragover", (event) => { if (hasFiles(event)) event.preventDefault(); });
  window.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const [file] = event.dataTransfer.files;
    if (file) addFile(file);
  });
  window.addEventListener("paste", (event) => {
    const [file] = event.clipboardData?.files || [];
    if (!file) return;             // plain text pastes into the search box as usual
    event.preventDefault();
    addFile(file);
  });
}

function setupMic() {
  const button = $("#mic");
  if (!navigator.mediaDevices?.getUserMedia) {
    button.hidden = true;          // no microphone API (e.g. a non-local http address)
    return;
  }
  let recording = null;
  button.addEventListener("click", async () => {
    if (recording) { recording.stop(); return; }
    try {
      recording = await recordWav({
        maxSeconds: 10,
        onTick: (seconds) => { $("#rec-time").textContent = formatDuration(seconds); },
      });
    } catch (err) {
      toast(`The microphone could not be opened (${err.message || err.name}).`);
      return;
    }
    button.classList.add("recording");
    button.setAttribute("aria-pressed", "true");
    const file = await recording.done;
    recording = null;
    button.classList.remove("recording");
    button.setAttribute("aria-pressed", "false");
    $("#rec-time").textContent = "";
    if (file) addFile(file);
  });
}

// ------------------------------------------------------------------------------------------ viewer

let viewerModule = null;
async function openViewer(item) {
  const dialog = $("#viewer");
  $("#viewer-title").textContent = item.name;
  $("#viewer-meta").textContent = describe(item);
  dialog.dataset.state = "loading";
  if (!dialog.open) dialog.showModal();
  try {
    viewerModule = viewerModule || await import("./viewer.js");
    const geometry = await api(item.geometry_url);
    if (!dialog.open) return;
    await viewerModule.show($("#viewer-canvas"), geometry);
    dialog.dataset.state = "ready";
    dialog.dataset.kind = geometry.kind;
  } catch (err) {
    dialog.dataset.state = "error";
    toast(err.message);
  }
}

function setupViewer() {
  const dialog = $("#viewer");
  const close = () => { if (dialog.open) dialog.close(); };
  $("#viewer-close").addEventListener("click", close);
  dialog.addEventListener("click", (event) => { if (event.target === dialog) close(); });  // the backdrop
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  dialog.addEventListener("close", () => { viewerModule?.pause(); dialog.dataset.state = "closed"; });
}

// ------------------------------------------------------------------------------------------ collection

const browse = { modality: "image", offset: 0, limit: 48 };

async function loadCollection() {
  try {
    const info = await api("/api/info");
    $("#collection-name").textContent = info.collection;
    $("#coll-title").textContent = info.collection;
    const spaces = info.spaces.map((s) => `${s.name} (${s.dim}-d)`).join(", ") || "no space yet";
    $("#coll-meta").textContent = `${info.total.toLocaleString()} items · ${formatBytes(info.storage_bytes)} · ${info.backend} · space ${spaces}`;
    const order = ["image", "audio", "3d", "text"];
    $("#counts").replaceChildren(...order.map((m) => el("button", {
      type: "button", class: `count ${m === "3d" ? "shape" : m}`, dataset: { modality: m },
      onclick: () => { browse.modality = m; loadBrowse(); },
    }, el("strong", {}, (info.counts[m] || 0).toLocaleString()), el("span", {}, MODALITY_LABEL[m]))));
  } catch (err) {
    toast(err.message);
  }
  loadBrowse();
  loadJobs();
}

async function loadBrowse(append = false) {
  for (const button of $("#browse-modality").children) {
    button.setAttribute("aria-checked", String(button.dataset.modality === browse.modality));
  }
  const offset = append ? browse.offset + browse.limit : 0;
  try {
    const page = await api(`/api/items?modality=${encodeURIComponent(browse.modality)}&offset=${offset}&limit=${browse.limit}`);
    browse.offset = offset;
    const cards = page.items.map(card);
    if (append) $("#browse").append(...cards); else $("#browse").replaceChildren(...cards);
    if (!page.total) $("#browse").replaceChildren(el("p", { class: "muted" }, `No ${MODALITY_LABEL[browse.modality].toLowerCase()} items yet.`));
    $("#browse-more").hidden = offset + page.items.length >= page.total;
  } catch (err) {
    toast(err.message);
  }
}

const watched = new Map();   // job id -> EventSource

function jobRow(job) {
  let row = document.getElementById(`job-${job.id}`);
  if (!row) {
    row = el("div", { class: "job", id: `job-${job.id}` },
      el("div", { class: "job-head" },
        el("span", { class: "job-path", title: job.path }, job.path),
        el("span", { class: "job-state" }),
        el("button", { type: "button", class: "link danger job-cancel", onclick: () => cancelJob(job.id) }, "Cancel")),
      el("div", { class: "bar" }, el("div", { class: "bar-fill" })),
      el("div", { class: "job-counts muted" }));
    $("#jobs").prepend(row);
  }
  const running = job.state === "running" || job.state === "queued";
  const pct = job.total ? Math.min(100, (100 * job.done) / job.total) : (running ? 0 : 100);
  row.dataset.state = job.state;
  $(".job-state", row).textContent = job.state;
  $(".bar-fill", row).style.width = `${pct}%`;
  $(".bar", row).setAttribute("aria-valuenow", String(Math.round(pct)));
  $(".job-cancel", row).hidden = !running;
  const parts = [`${job.done.toLocaleString()} / ${job.total ? job.total.toLocaleString() : "?"} files`,
    `${job.indexed} indexed`, `${job.unchanged} unchanged`, `${job.removed} removed`, `${job.failed} failed`];
  if (job.error) parts.push(job.error);
  $(".job-counts", row).textContent = parts.join(" · ");
  return row;
}

function watchJob(job) {
  jobRow(job);
  if (watched.has(job.id) || !["running", "queued"].includes(job.state)) return;
  const source = new EventSource(`/api/jobs/${encodeURIComponent(job.id)}/events`);
  watched.set(job.id, source);
  source.addEventListener("progress", (event) => jobRow(JSON.parse(event.data)));
  source.addEventListener("end", (event) => {
    jobRow(JSON.parse(event.data));
    source.close();
    watched.delete(job.id);
    if (!$("#view-collection").hidden) loadCollection();
  });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) watched.delete(job.id); };
}

async function loadJobs() {
  try {
    const { jobs } = await api("/api/jobs");
    jobs.sort((a, b) => a.started - b.started).forEach(watchJob);
  } catch (err) {
    toast(err.message);
  }
}

async function cancelJob(id) {
  try { jobRow(await api(`/api/jobs/${encodeURIComponent(id)}`, { method: "DELETE" })); } catch (err) { toast(err.message); }
}

function setupCollection() {
  $("#job-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const path = $("#job-path").value.trim();
    if (!path) return;
    try {
      const job = await api("/api/jobs", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path }),
      });
      $("#job-path").value = "";
      watchJob(job);
    } catch (err) {
      toast(err.message);
    }
  });
  $("#browse-modality").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-modality]");
    if (!button) return;
    browse.modality = button.dataset.modality;
    loadBrowse();
  });
  $("#browse-more").addEventListener("click", () => loadBrowse(true));
}

// ------------------------------------------------------------------------------------------ views

function showView(name) {
  $("#view-search").hidden = name !== "search";
  $("#view-collection").hidden = name !== "collection";
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-current", String(tab.dataset.view === name));
  if (name === "search" && location.hash) history.replaceState(null, "", location.pathname + location.search);
}

function route() {
  if (location.hash === "#collection") {
    showView("collection");
    loadCollection();
  } else {
    showView("search");
    readUrl();
    search({ push: false });
  }
}

function start() {
  setupSearch();
  setupViewer();
  setupCollection();
  window.addEventListener("popstate", route);
  window.addEventListener("hashchange", route);
  api("/api/health").then((h) => {
    $("#collection-name").textContent = h.collection;
    $("#summary").replaceChildren(`${h.total.toLocaleString()} items in collection ${h.collection} · `,
      el("a", { href: "/#collection" }, "browse them"));
  }).catch(() => {});
  route();
  if (!location.search && !location.hash) $("#q").focus();
}

start();
