// A result or browse card: the media (image, player, 3D thumbnail or text), name, score and actions.

import { el } from "./dom.js";
import { MODALITY_LABEL, describe, formatDuration, posterTime, scoreStrength } from "./format.js";
import { whyLines } from "./query.js";
import { openViewer } from "./viewer-dialog.js";
import { playAt } from "./player.js";

function scoreBadge(hit) {
  if (typeof hit.score !== "number") return null;
  const cos = typeof hit.cosine === "number" ? hit.cosine.toFixed(4) : "?";
  const why = whyLines(hit);
  const emergent = (hit.inputs || []).some((p) => p.emergent);
  return el("span", { class: `score ${scoreStrength(hit.score)}${emergent ? " emergent" : ""}`, tabindex: why.length ? "0" : null,
    title: [`calibrated score ${hit.score.toFixed(3)} · raw cosine ${cos}`, ...(why.length ? ["Why this result:", ...why] : [])].join("\n") },
  hit.score.toFixed(2));
}

function mediaBlock(item, query) {
  if (item.modality === "image") {
    return el("a", { class: "media image", href: item.media_url, target: "_blank", rel: "noopener", title: "Open the full image" },
      el("img", { src: item.thumb_url, alt: item.name, loading: "lazy", decoding: "async" }));
  }
  if (item.modality === "audio") {
    return el("div", { class: "media audio" },
      el("img", { class: "wave", src: item.thumb_url, alt: "", loading: "lazy", decoding: "async" }),
      el("audio", { controls: true, preload: "metadata", src: item.media_url, "aria-label": `Play ${item.name}` }));
  }
  if (item.modality === "3d") {
    return el("button", { type: "button", class: "media shape", title: "Turn it in 3D", "aria-label": `Turn ${item.name} in 3D`,
      onclick: () => openViewer(item, query) },
      el("img", { src: item.thumb_url, alt: item.name, loading: "lazy", decoding: "async" }),
      el("span", { class: "badge-3d", "aria-hidden": "true" }, "3D"));
  }
  if (item.modality === "video") {
    const d = item.details || {};
    const start = typeof d.start === "number" ? d.start : 0;
    const end = typeof d.end === "number" ? d.end : start;
    const at = posterTime(item);                            // the poster: a frame inside the matched moment
    return el("button", { type: "button", class: "media video", title: `Play from ${formatDuration(start)}`,
      "aria-label": `Play ${item.name} from ${formatDuration(start)}`, onclick: () => playAt(item, start, end) },
      el("img", { src: `${item.thumb_url}?at=${at.toFixed(2)}`, alt: item.name, loading: "lazy", decoding: "async" }),
      el("span", { class: "badge-time" }, `▶ ${formatDuration(start)}–${formatDuration(end)}`));
  }
  const d = item.details || {};
  return el("blockquote", { class: "media text" }, d.text || d.caption || item.name);
}

/** The card of one item (a hit carries a score too); `onLike(item)` runs "More like this", `onUnlike(item)`
 * (when given) "Less like this"; `onWhere(cardNode, item)` (when given, for pictures and a video's poster frame)
 * shows where the query is;
 * `query` (the query's {text} or {audio}, when it has one) lets the 3D viewer colour a shape by match. */
export function card(item, onLike, onUnlike = null, onWhere = null, query = null) {
  const kind = item.modality === "3d" ? "shape" : item.modality;
  const where = onWhere && (item.modality === "image" || item.modality === "video");
  const node = el("article", { class: `card ${kind}`, dataset: { id: item.id, modality: item.modality } },
    mediaBlock(item, query),
    el("div", { class: "card-body" },
      el("div", { class: "card-title" },
        el("span", { class: "name", title: item.path }, item.name),
        scoreBadge(item)),
      el("div", { class: "card-meta" },
        el("span", { class: `pill ${kind}` }, MODALITY_LABEL[item.modality] || item.modality),
        item.new ? el("span", { class: "pill new", title: "Not in this saved search's last results" }, "New") : null,
        el("span", { class: "muted" }, describe(item)),
        el("div", { class: "card-actions" },
          el("button", { type: "button", class: "link", onclick: () => onLike(item) }, "More like this"),
          onUnlike ? el("button", { type: "button", class: "link less", onclick: () => onUnlike(item) }, "Less like this") : null,
          where ? el("button", { type: "button", class: "link where", "aria-pressed": "false",
            title: item.modality === "video" ? "Light up where the query is in this frame (Esc hides it)"
              : "Light up where the query is in this picture (Esc hides it)", onclick: () => onWhere(node, item) },
          "Where?") : null))));
  return node;
}
