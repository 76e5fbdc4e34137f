// Every call the page makes to the server, in one place: one function per endpoint. Errors come back as
// the server's one sentence (its `detail`), thrown as an Error.

async function call(url, options = {}) {
  const res = await fetch(url, options);
  const isJson = (res.headers.get("content-type") || "").includes("json");
  const body = isJson ? await res.json() : null;
  if (!res.ok) {
    const detail = body && body.detail;
    throw new Error(typeof detail === "string" ? detail : `The server answered ${res.status}.`);
  }
  return body;
}

const id = (value) => encodeURIComponent(value);

/** Liveness, collection name and item count. */
export const health = () => call("/api/health");

/** Collection, spaces, counts per modality, storage size. */
export const info = () => call("/api/info");

/** Extensions per query kind, default and largest k, job states: the server's own constants. */
export const constants = () => call("/api/constants");

/** One page of hits. `params` is a URLSearchParams; `files` [{field, file}] makes it a multipart POST. */
export function search(params, files = []) {
  if (!files.length) return call(`/api/search?${params}`);
  const form = new FormData();
  for (const [key, value] of params) form.append(key, value);
  for (const { field, file } of files) form.append(field, file, file.name);
  return call("/api/search", { method: "POST", body: form });
}

/** Where a query lights up an indexed picture or shape: `query` is {text} or {audio: File}; the answer has
 * the per-part cosines and centres, the peak, the calibrated verdict and (for a picture, unless
 * `overlay` is false) the overlay PNG (base64); `at` picks a video's frame (seconds). */
export function explain(itemId, query, { overlay = true, at = null } = {}) {
  const form = new FormData();
  form.append("item", itemId);
  form.append("overlay", overlay ? "true" : "false");
  if (at !== null) form.append("at", String(at));
  if (query.audio) form.append("audio", query.audio, query.audio.name);
  else form.append("text", query.text);
  return call("/api/explain", { method: "POST", body: form });
}

/** One stored item by id. */
export const item = (itemId) => call(`/api/items/${id(itemId)}`);

/** A page of stored items of one modality. */
export const items = (modality, offset, limit) =>
  call(`/api/items?modality=${id(modality)}&offset=${offset}&limit=${limit}`);

/** The geometry the 3D viewer draws (its URL comes with the item). */
export const geometry = (url) => call(url);

/** Index jobs, newest state of each. */
export const jobs = () => call("/api/jobs");

/** Start indexing a folder on the server's machine. */
export const startJob = (path) => call("/api/jobs", {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path }),
});

/** Cancel a job; answers its new state. */
export const cancelJob = (jobId) => call(`/api/jobs/${id(jobId)}`, { method: "DELETE" });

/** A job's server-sent events (`progress`, then one `end`). */
export const jobEvents = (jobId) => new EventSource(`/api/jobs/${id(jobId)}/events`);

/** Groups of identical files and near-duplicates (`identical`: hashes only, no vector search). */
export const duplicates = (modality = "any", identical = false) =>
  call(`/api/duplicates?modality=${id(modality)}&identical=${identical}`);

/** The saved searches. */
export const savedSearches = () => call("/api/saved");

/** Save a search (texts, indexed items, negatives, weights, filters, target, k) under a name. */
export const saveSearch = (name, query) => call("/api/saved", {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, query }),
});

/** Run a saved search; its hits say whether they are new since its last run. */
export const runSaved = (name) => call(`/api/saved/${id(name)}/run`, { method: "POST" });

/** Forget a saved search. */
export const deleteSaved = (name) => call(`/api/saved/${id(name)}`, { method: "DELETE" });

/** What `serve --watch` follows and the changes not yet searchable. */
export const watchState = () => call("/api/watch");

/** Where the server serves an item's file (by id only). */
export const mediaUrl = (itemId) => `/api/items/${id(itemId)}/media`;
