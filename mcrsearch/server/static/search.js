// The search view: text, file, drop, paste, microphone or "more like this"; the URL reproduces the query.

import * as api from "./api.js";
import { card } from "./cards.js";
import { toggleWhere } from "./explain.js";
import { $, checkRadio, el, showView, toast } from "./dom.js";
import { FIELD_LABEL, formatDuration } from "./format.js";
import { FILTER_KEYS, acceptList, fileField, queryUrl, readQuery, searchParams, splitNegatives, weightKey } from "./query.js";
import { recordWav } from "./recorder.js";

let limits = null;       // the server's constants (set by setupSearch)

// The query being shown. Files cannot go into a URL, so they live here for "load more".
const state = {
  text: "",
  like: null,            // {id, name}
  files: [],             // [{field: "audio"|"image"|"points", file: File, negative: bool}]
  notTexts: [],          // texts to move away from ("-word" in the box)
  notLikes: [],          // [{id, name}]: "Less like this"
  weights: {},           // weight key ("audio", "not-like", ...) -> number; 1 is left out
  where: {},             // filter bar: FILTER_KEYS -> value
  target: "any",
  minScore: null,
  k: 20,
  offset: 0,
  seq: 0,                // guards against late answers of superseded searches
};

function hasQuery() {
  return Boolean(state.text.trim() || state.like || state.files.length || state.notTexts.length || state.notLikes.length);
}

function syncUrl(push) {
  const url = queryUrl(state, limits.default_k);
  if (url === location.pathname + location.search && !location.hash) return;
  (push ? history.pushState : history.replaceState).call(history, null, "", url);
}

/** What "Where?" looks for in a picture: the query's sound (an audio file) or else its text; null when the
 * query has neither (an image or 3D query, or only indexed items). */
function whereQuery() {
  const sound = state.files.find((f) => f.field === "audio" && !f.negative);
  if (sound) return { audio: sound.file };
  return state.text.trim() ? { text: state.text.trim() } : null;
}

/** Run the query in `state`: a new first page, or (`append`) the next page under the shown one. */
export async function search({ append = false, push = true } = {}) {
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
    const uploads = state.files.map((f) => ({ field: f.negative ? `not_${f.field}` : f.field, file: f.file }));
    const answer = await api.search(searchParams(state, offset), uploads);
    if (seq !== state.seq) return;
    state.offset = offset;
    const grid = $("#results");
    const where = whereQuery();
    const onWhere = where ? (node, item) => toggleWhere(node, item, where) : null;
    const cards = answer.hits.map((hit) => card(hit, moreLikeThis, lessLikeThis, onWhere, where));
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

/** Search with a stored item as the example. */
export function moreLikeThis(item) {
  state.like = { id: item.id, name: item.name };
  state.text = "";
  state.files = [];
  state.notTexts = [];
  state.notLikes = [];
  state.weights = {};
  $("#q").value = "";
  showView("search");
  window.scrollTo({ top: 0, behavior: "smooth" });
  search();
}

/** Keep the current query and move away from a stored item ("Less like this"); it leaves the results too. */
export function lessLikeThis(item) {
  if (!state.notLikes.some((l) => l.id === item.id)) state.notLikes.push({ id: item.id, name: item.name });
  if (state.like && state.like.id === item.id) state.like = null;
  search();
}

function addFile(file) {
  const field = fileField(file.name, file.type, limits.extensions);
  if (field === "text") {
    file.text().then((text) => { state.text = text.trim(); $("#q").value = state.text; search(); });
    return;
  }
  if (!field) {
    toast(`${file.name}: this file type cannot be used as a query.`);
    return;
  }
  state.files = state.files.filter((f) => f.field !== field || f.negative).concat([{ field, file, negative: false }]);
  state.like = null;
  showView("search");
  search();
}

const WEIGHT_STEPS = [1, 2, 3, 0.5];

/** A removable chip of one input: its kind (negatives say "Not"), name, weight (click to change) and ×. */
function chip(kind, label, name, key, negative, onRemove) {
  const weight = state.weights[key] ?? 1;
  return el("span", { class: `chip ${kind}${negative ? " negative" : ""}`, dataset: { key } },
    el("span", { class: "chip-kind" }, negative ? `Not ${label.toLowerCase()}` : label),
    el("span", { class: "chip-name", title: name }, name),
    el("button", { type: "button", class: "chip-weight", title: `Weight of every ${negative ? "negative " : ""}${label.toLowerCase()} input (click to change)`,
      "aria-label": `Weight ${weight} for ${name}`, onclick: () => {
        const next = WEIGHT_STEPS[(WEIGHT_STEPS.indexOf(weight) + 1) % WEIGHT_STEPS.length];
        if (next === 1) delete state.weights[key]; else state.weights[key] = next;
        search();
      } }, `×${weight}`),
    el("button", { type: "button", "aria-label": `Remove ${name}`, onclick: onRemove }, "×"));
}

function renderChips() {
  const list = [];
  for (const entry of state.files) {
    const c = chip(entry.field, FIELD_LABEL[entry.field], entry.file.name, weightKey(entry.field, entry.negative),
      entry.negative, () => { state.files = state.files.filter((f) => f !== entry); search(); });
    c.insertBefore(el("button", { type: "button", class: "chip-flip", title: entry.negative ? "Search towards it" : "Search away from it",
      "aria-label": `${entry.negative ? "More" : "Less"} like ${entry.file.name}`,
      onclick: () => { entry.negative = !entry.negative; search(); } }, entry.negative ? "+" : "−"), c.lastChild);
    list.push(c);
  }
  if (state.like) {
    list.push(chip("like", "Like", state.like.name || state.like.id, "like", false, () => { state.like = null; search(); }));
  }
  for (const t of state.notTexts) {
    list.push(chip("text", "Text", t, "not-text", true, () => { state.notTexts = state.notTexts.filter((x) => x !== t); search(); }));
  }
  for (const l of state.notLikes) {
    list.push(chip("like", "Like", l.name || l.id, "not-like", true, () => { state.notLikes = state.notLikes.filter((x) => x !== l); search(); }));
  }
  $("#chips").replaceChildren(...list);
}

function renderControls() {
  checkRadio($("#target"), state.target);
  for (const key of FILTER_KEYS) {
    const input = document.getElementById(`f-${key}`);
    if (input && document.activeElement !== input) input.value = state.where[key] ?? "";
  }
  const active = FILTER_KEYS.filter((key) => String(state.where[key] ?? "").trim() !== "").length;
  $("#filters-count").textContent = active ? `(${active})` : "";
  const slider = $("#min-score");
  slider.value = state.minScore === null ? slider.min : String(state.minScore);
  $("#min-score-value").textContent = state.minScore === null ? "off" : state.minScore.toFixed(2);
}

/** Take the query from the page's URL (a reload or a shared link reproduces the search). */
export function readUrl() {
  const query = readQuery(location.search, limits);
  const keptName = state.like && state.like.id === query.likeId ? state.like.name : null;
  Object.assign(state, { text: query.text, target: query.target, minScore: query.minScore, k: query.k, files: [],
    notTexts: query.notTexts, weights: query.weights, where: query.where });
  const names = new Map(state.notLikes.map((l) => [l.id, l.name]));
  state.notLikes = query.notLikeIds.map((id) => ({ id, name: names.get(id) || null }));
  for (const l of state.notLikes.filter((x) => !x.name)) {
    api.item(l.id).then((item) => { l.name = item.name; renderChips(); }).catch(() => {});
  }
  state.like = query.likeId ? { id: query.likeId, name: keptName } : null;
  $("#q").value = state.text;
  if (state.like && !state.like.name) {
    const id = state.like.id;
    api.item(id).then((item) => {
      if (state.like && state.like.id === id) { state.like.name = item.name; renderChips(); }
    }).catch(() => {});
  }
}

/** Wire the search view; `constants` are the server's (api.constants()). */
export function setupSearch(constants) {
  limits = constants;
  state.k = constants.default_k;
  $("#file").setAttribute("accept", acceptList(constants.extensions));
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const { text, notTexts } = splitNegatives($("#q").value);
    state.text = text;
    state.notTexts = [...new Set([...state.notTexts, ...notTexts])];
    $("#q").value = text;
    search();
  });
  $("#filters").addEventListener("change", (event) => {
    const key = event.target.id.replace(/^f-/, "");
    if (!FILTER_KEYS.includes(key)) return;
    if (event.target.value.trim()) state.where[key] = event.target.value.trim(); else delete state.where[key];
    search();
  });
  $("#save-search").addEventListener("click", saveCurrent);
  $("#target").addEventListener("change", (event) => {
    state.target = event.target.value;
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

/** The current search as a saved search's query (files cannot be saved: the server reads no path). */
export function savedQuery() {
  const where = {};
  for (const [key, value] of Object.entries(state.where)) {
    if (String(value).trim()) where[key === "type" ? "types" : key] = key === "type" ? String(value).split(/[\s,]+/).filter(Boolean) : value;
  }
  const query = { target: state.target, k: state.k };
  if (state.text.trim()) query.text = [state.text.trim()];
  if (state.like) query.like = [state.like.id];
  if (state.notTexts.length) query.not_text = state.notTexts;
  if (state.notLikes.length) query.not_like = state.notLikes.map((l) => l.id);
  if (Object.keys(state.weights).length) query.weights = state.weights;
  if (Object.keys(where).length) query.where = where;
  return query;
}

async function saveCurrent() {
  if (!hasQuery()) { toast("Search for something first, then save it."); return; }
  if (state.files.length) { toast("Searches with uploaded files cannot be saved: index the files and use More like this."); return; }
  const name = window.prompt("Save this search as (letters, digits, - _ .):");
  if (!name) return;
  try {
    await api.saveSearch(name.trim(), savedQuery());
    toast(`Saved as “${name.trim()}”; find it under Collection › Saved searches.`);
  } catch (err) {
    toast(err.message);
  }
}

/** Show a saved search's fresh run in the results (new hits are marked). */
export function showSavedRun(name, answer) {
  showView("search");
  const grid = $("#results");
  grid.replaceChildren(...answer.hits.map((hit) => card(hit, moreLikeThis, lessLikeThis)));
  const fresh = answer.hits.filter((h) => h.new).length;
  $("#empty").hidden = true;
  $("#more").hidden = true;
  $("#status").textContent = `Saved search “${name}”: ${answer.hits.length} results, ${fresh} new since its last run`;
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
