// Pure helpers (no DOM): what kind of query a file is, and the search as URL parameters and back.
// The extension lists, k's bounds and the modalities come from the server (api.constants()).

/** The upload field for a file ("image" | "audio" | "points" | "text"), or null when it cannot be a query. */
export function fileField(name, type, extensions) {
  const lower = name.toLowerCase();
  const ext = lower.includes(".") ? lower.slice(lower.lastIndexOf(".")) : "";
  for (const [field, list] of Object.entries(extensions)) if (list.includes(ext)) return field;
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("audio/")) return "audio";
  if (type === "text/plain") return "text";
  return null;
}

/** The file picker's `accept` list: every extension the server takes, and any image or audio type. */
export function acceptList(extensions) {
  return ["image/*", "audio/*", ...Object.values(extensions).flat()].join(",");
}

/** The query as URL parameters (`offset` only when not 0). */
export function searchParams(state, offset = 0) {
  const params = new URLSearchParams();
  if (state.text.trim()) params.append("text", state.text.trim());
  if (state.like) params.append("like", state.like.id);
  params.set("target", state.target);
  params.set("k", String(state.k));
  if (offset) params.set("offset", String(offset));
  if (state.minScore !== null) params.set("min_score", String(state.minScore));
  return params;
}

/** The page's own URL for a query: defaults are left out. */
export function queryUrl(state, defaultK) {
  const params = searchParams(state);
  if (params.get("target") === "any") params.delete("target");
  if (params.get("k") === String(defaultK)) params.delete("k");
  return `/${params.toString() ? `?${params}` : ""}`;
}

/** A URL's query string -> {text, likeId, target, minScore, k}; anything out of bounds takes its default. */
export function readQuery(search, constants) {
  const params = new URLSearchParams(search);
  const target = (params.get("target") || "any").toLowerCase();
  const min = parseFloat(params.get("min_score"));
  const k = parseInt(params.get("k"), 10);
  return {
    text: params.getAll("text").join(" "),
    likeId: params.get("like"),
    target: ["any", ...constants.modalities].includes(target) ? target : "any",
    minScore: Number.isFinite(min) ? min : null,
    k: Number.isFinite(k) && k > 0 && k <= constants.max_k ? k : constants.default_k,
  };
}
