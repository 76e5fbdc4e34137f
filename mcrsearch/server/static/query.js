// Pure helpers (no DOM): what kind of query a file is, and the search as URL parameters and back.
// The extension lists, k's bounds and the modalities come from the server (api.constants()).

/** The upload field for a file ("image" | "audio" | "points" | "text"), or null when it cannot be a query. */
export function fileField(name, type, extensions) {
  const lower = name.toLowerCase();
  const ext = lower.includes(".") ? lower.slice(lower.lastIndexOf(".")) : "";
  for (const [field, list] of Object.entries(extensions)) if (list.includes(ext)) return field;
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("audio/")) return "audio";
  if (type.startsWith("video/")) return "video";
  if (type === "text/plain") return "text";
  return null;
}

/** The file picker's `accept` list: every extension the server takes, and any image or audio type. */
export function acceptList(extensions) {
  return ["image/*", "audio/*", "video/*", ...Object.values(extensions).flat()].join(",");
}

/** The filters the page offers, by their API names. */
export const FILTER_KEYS = ["under", "type", "modified_after", "modified_before", "min_duration", "max_duration"];

/** Search-box text with negative terms split off: `a dog -cartoon -"red car"` -> {text, notTexts}. */
export function splitNegatives(raw) {
  const notTexts = [];
  const text = raw.replace(/(^|\s)-(?:"([^"]+)"|(\S+))/g, (_m, lead, quoted, word) => {
    notTexts.push((quoted || word).trim());
    return lead;
  }).replace(/\s+/g, " ").trim();
  return { text, notTexts: notTexts.filter(Boolean) };
}

/** The weight key of an input: "text", "image", "audio", "3d", "like", each with "not-" when negative. */
export function weightKey(field, negative) {
  const base = field === "points" ? "3d" : field;
  return negative ? `not-${base}` : base;
}

/** The query as URL parameters (`offset` only when not 0); negatives, weights and filters when set. */
export function searchParams(state, offset = 0) {
  const params = new URLSearchParams();
  if (state.text.trim()) params.append("text", state.text.trim());
  if (state.like) params.append("like", state.like.id);
  params.set("target", state.target);
  params.set("k", String(state.k));
  if (offset) params.set("offset", String(offset));
  if (state.minScore !== null) params.set("min_score", String(state.minScore));
  for (const t of state.notTexts || []) params.append("not_text", t);
  for (const l of state.notLikes || []) params.append("not_like", l.id);
  for (const [key, value] of Object.entries(state.weights || {})) {
    if (value !== 1) params.append("weight", `${key}=${value}`);
  }
  for (const key of FILTER_KEYS) {
    const value = (state.where || {})[key];
    if (value !== undefined && value !== null && String(value).trim() !== "") {
      for (const v of key === "type" ? String(value).split(/[\s,]+/).filter(Boolean) : [String(value).trim()]) {
        params.append(key, v);
      }
    }
  }
  return params;
}

/** The page's own URL for a query: defaults are left out. */
export function queryUrl(state, defaultK) {
  const params = searchParams(state);
  if (params.get("target") === "any") params.delete("target");
  if (params.get("k") === String(defaultK)) params.delete("k");
  return `/${params.toString() ? `?${params}` : ""}`;
}

/** A URL's query string -> {text, likeId, target, minScore, k, notTexts, notLikeIds, weights, where};
 * anything out of bounds takes its default. */
export function readQuery(search, constants) {
  const params = new URLSearchParams(search);
  const target = (params.get("target") || "any").toLowerCase();
  const min = parseFloat(params.get("min_score"));
  const k = parseInt(params.get("k"), 10);
  const weights = {};
  for (const spec of params.getAll("weight")) {
    const [key, value] = spec.split("=");
    const number = parseFloat(value);
    if (key && Number.isFinite(number) && number !== 0) weights[key] = number;
  }
  const where = {};
  for (const key of FILTER_KEYS) {
    const values = params.getAll(key);
    if (values.length) where[key] = key === "type" ? values.join(", ") : values[0];
  }
  return {
    text: params.getAll("text").join(" "),
    likeId: params.get("like"),
    target: ["any", ...constants.modalities].includes(target) ? target : "any",
    minScore: Number.isFinite(min) ? min : null,
    k: Number.isFinite(k) && k > 0 && k <= constants.max_k ? k : constants.default_k,
    notTexts: params.getAll("not_text"),
    notLikeIds: params.getAll("not_like"),
    weights,
    where,
  };
}

/** Why a hit was found, as the lines of its score's tooltip: per input its share and the hops it took. */
export function whyLines(hit) {
  const lines = [];
  for (const part of hit.inputs || []) {
    const sign = part.contribution >= 0 ? "+" : "";
    lines.push(`${part.negative ? "less like" : "like"} ${part.input}: ${sign}${part.contribution.toFixed(2)} ` +
      `(cosine ${part.cosine.toFixed(3)}, z ${part.z.toFixed(2)}, weight ${part.weight})`);
    if (part.path) lines.push(`  ${part.path.join(" → ")}${part.emergent ? " (emergent)" : ""}`);
  }
  return lines;
}
