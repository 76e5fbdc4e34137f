// The collection view: counts per modality, browsing, and index jobs followed live (server-sent events).

import * as api from "./api.js";
import { card } from "./cards.js";
import { $, checkRadio, el, toast } from "./dom.js";
import { MODALITY_LABEL, formatBytes, jobProgress } from "./format.js";
import { moreLikeThis, showSavedRun } from "./search.js";

const browse = { modality: "image", offset: 0, limit: 48 };
const watched = new Map();   // job id -> EventSource
let jobStates = null;        // {active, finished}, the server's

/** Show the collection: its description and counts, a page of items, and its jobs. */
export async function loadCollection() {
  try {
    const info = await api.info();
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
  loadSaved();
  loadWatch();
}

/** The saved searches, each with Run (its fresh results, new ones marked) and Delete. */
async function loadSaved() {
  try {
    const { saved } = await api.savedSearches();
    const rows = saved.map((s) => el("div", { class: "saved-row", dataset: { name: s.name } },
      el("strong", {}, s.name),
      el("span", { class: "muted" }, Object.entries(s.query).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ")),
      el("button", { type: "button", class: "link", onclick: async () => {
        try { showSavedRun(s.name, await api.runSaved(s.name)); } catch (err) { toast(err.message); }
      } }, "Run"),
      el("button", { type: "button", class: "link danger", onclick: async () => {
        try { await api.deleteSaved(s.name); loadSaved(); } catch (err) { toast(err.message); }
      } }, "Delete")));
    $("#saved").replaceChildren(...(rows.length ? rows : [el("p", { class: "muted" }, "No saved searches yet: search, then press Save.")]));
  } catch (err) {
    toast(err.message);
  }
}

/** Groups of identical files and near-duplicates, each item openable. */
async function findDuplicates() {
  $("#dups").replaceChildren(el("p", { class: "muted" }, "Looking…"));
  try {
    const { groups, total } = await api.duplicates();
    const rows = groups.map((g) => el("div", { class: `dup-group ${g.kind}` },
      el("div", {}, el("strong", {}, g.kind === "identical" ? "Identical" : "Near-duplicates"),
        el("span", { class: "muted" }, ` · ${MODALITY_LABEL[g.modality] || g.modality} · ${g.items.length} items` +
          (g.kind === "near" ? ` · cosine ≥ ${g.min_cosine.toFixed(4)}` : ""))),
      el("ul", {}, ...g.items.map((i) => el("li", {},
        el("a", { href: api.mediaUrl(i.id), target: "_blank", rel: "noopener", title: i.path }, i.path))))));
    $("#dups").replaceChildren(...(rows.length ? rows : [el("p", { class: "muted" }, "No duplicates.")]),
      ...(total > groups.length ? [el("p", { class: "muted" }, `… and ${total - groups.length} more groups.`)] : []));
  } catch (err) {
    $("#dups").replaceChildren();
    toast(err.message);
  }
}

/** What `serve --watch` follows and what is still pending (refreshed while the view is open). */
let watchTimer = null;
async function loadWatch() {
  clearTimeout(watchTimer);
  try {
    const w = await api.watchState();
    $("#watch-state").textContent = w.watching.length
      ? `Watching ${w.watching.join(", ")} · ${w.pending.length ? `${w.pending.length} change(s) pending` : "up to date"} · ${w.batches} update(s) applied`
      : "";
  } catch (err) {
    $("#watch-state").textContent = "";
  }
  if (!$("#view-collection").hidden) watchTimer = setTimeout(loadWatch, 2000);
}

async function loadBrowse(append = false) {
  checkRadio($("#browse-modality"), browse.modality);
  const offset = append ? browse.offset + browse.limit : 0;
  try {
    const page = await api.items(browse.modality, offset, browse.limit);
    browse.offset = offset;
    const cards = page.items.map((item) => card(item, moreLikeThis));
    if (append) $("#browse").append(...cards); else $("#browse").replaceChildren(...cards);
    if (!page.total) $("#browse").replaceChildren(el("p", { class: "muted" }, `No ${MODALITY_LABEL[browse.modality].toLowerCase()} items yet.`));
    $("#browse-more").hidden = offset + page.items.length >= page.total;
  } catch (err) {
    toast(err.message);
  }
}

function jobRow(job) {
  let row = document.getElementById(`job-${job.id}`);
  if (!row) {
    row = el("div", { class: "job", id: `job-${job.id}` },
      el("div", { class: "job-head" },
        el("span", { class: "job-path", title: job.path }, job.path),
        el("span", { class: "job-state" }),
        el("button", { type: "button", class: "link danger job-cancel", onclick: () => cancelJob(job.id) }, "Cancel")),
      el("progress", { class: "bar", max: "100", value: "0", "aria-label": `Indexing ${job.path}` }),
      el("div", { class: "job-counts muted" }));
    $("#jobs").prepend(row);
  }
  const { running, percent, counts } = jobProgress(job, jobStates.active);
  row.dataset.state = job.state;
  $(".job-state", row).textContent = job.state;
  $(".bar", row).value = percent;
  $(".job-cancel", row).hidden = !running;
  $(".job-counts", row).textContent = counts;
  return row;
}

function watchJob(job) {
  jobRow(job);
  if (watched.has(job.id) || !jobStates.active.includes(job.state)) return;
  const source = api.jobEvents(job.id);
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
    const { jobs } = await api.jobs();
    jobs.sort((a, b) => a.started - b.started).forEach(watchJob);
  } catch (err) {
    toast(err.message);
  }
}

async function cancelJob(id) {
  try { jobRow(await api.cancelJob(id)); } catch (err) { toast(err.message); }
}

/** Wire the collection view; `constants` are the server's (api.constants()). */
export function setupCollection(constants) {
  jobStates = constants.job_states;
  $("#job-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const path = $("#job-path").value.trim();
    if (!path) return;
    try {
      const job = await api.startJob(path);
      $("#job-path").value = "";
      watchJob(job);
    } catch (err) {
      toast(err.message);
    }
  });
  $("#browse-modality").addEventListener("change", (event) => {
    browse.modality = event.target.value;
    loadBrowse();
  });
  $("#browse-more").addEventListener("click", () => loadBrowse(true));
  $("#find-dups").addEventListener("click", findDuplicates);
}
