// The search view: text, file, drop, paste, microphone or "more like this"; the URL reproduces the query.

import * as api from "./api.js";
import { card } from "./cards.js";
import { $, checkRadio, el, showView, toast } from "./dom.js";
import { FIELD_LABEL, formatDuration } from "./format.js";
import { acceptList, fileField, queryUrl, readQuery, searchParams } from "./query.js";
import { recordWav } from "./recorder.js";

let limits = null;       // the server's constants (set by setupSearch)

// The query being shown. Files cannot go into a URL, so they live here for "load more".
const state = {
  text: "",
  like: null,            // {id, name}
  files: [],             // [{field: "audio"|"image"|"points", file: File}]
  target: "any",
  minScore: null,
  k: 20,
  offset: 0,
  seq: 0,                // guards against late answers of superseded searches
};

function hasQuery() {
  return Boolean(state.text.trim() || state.like || state.files.length);
}

function syncUrl(push) {
  const url = queryUrl(state, limits.default_k);
  if (url === location.pathname + location.search && !location.hash) return;
  (push ? history.pushState : history.replaceState).call(history, null, "", url);
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
    const answer = await api.search(searchParams(state, offset), state.files);
    if (seq !== state.seq) return;
    state.offset = offset;
    const grid = $("#results");
    const cards = answer.hits.map((hit) => card(hit, moreLikeThis));
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
  $("#q").value = "";
  showView("search");
  window.scrollTo({ top: 0, behavior: "smooth" });
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
  state.files = state.files.filter((f) => f.field !== field).concat([{ field, file }]);
  state.like = null;
  showView("search");
  search();
}

function renderChips() {
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
  $("#chips").replaceChildren(...list);
}

function renderControls() {
  checkRadio($("#target"), state.target);
  const slider = $("#min-score");
  slider.value = state.minScore === null ? slider.min : String(state.minScore);
  $("#min-score-value").textContent = state.minScore === null ? "off" : state.minScore.toFixed(2);
}

/** Take the query from the page's URL (a reload or a shared link reproduces the search). */
export function readUrl() {
  const query = readQuery(location.search, limits);
  const keptName = state.like && state.like.id === query.likeId ? state.like.name : null;
  Object.assign(state, { text: query.text, target: query.target, minScore: query.minScore, k: query.k, files: [] });
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
    state.text = $("#q").value;
    search();
  });
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
