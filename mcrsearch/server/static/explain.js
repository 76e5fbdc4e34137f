// "Where?": lay the heat map of the current query over an image result, or over a video result's poster
// frame (the frame at its moment), with the verdict (api.explain). The toggle shows or hides it; Esc hides
// every one that is shown.

import * as api from "./api.js";
import { el, toast } from "./dom.js";
import { formatDuration, posterTime } from "./format.js";

const shown = new Set();       // cards whose overlay is up

function hide(cardNode) {
  cardNode.querySelector(".where-layer")?.remove();
  cardNode.querySelector(".where")?.setAttribute("aria-pressed", "false");
  shown.delete(cardNode);
}

function verdictText(answer) {
  const v = answer.verdict;
  if (!v) return `peak ${answer.peak.toFixed(2)} · uncalibrated`;
  return `${v.present ? "Here" : "Not here"} · ${Math.round(100 * v.confidence)}%`;
}

/** Show (or hide, when shown) where `query` ({text} or {audio: File}) lights up the image of `item` (a video:
 * its poster frame). */
export async function toggleWhere(cardNode, item, query) {
  if (shown.has(cardNode)) { hide(cardNode); return; }
  const button = cardNode.querySelector(".where");
  button.setAttribute("aria-busy", "true");
  try {
    const isVideo = item.modality === "video";
    const answer = await api.explain(item.id, query, isVideo ? { at: posterTime(item) } : {});
    const media = cardNode.querySelector(".media.image, .media.video");
    const layer = el("div", { class: "where-layer", dataset: isVideo ? { at: String(answer.at) } : {} },
      el("img", { class: "where-overlay", src: `data:image/png;base64,${answer.overlay_png}`,
        alt: isVideo ? `Where the query matches ${item.name} at ${formatDuration(answer.at)}`
          : `Where the query matches ${item.name}` }),
      el("span", { class: `where-verdict ${answer.verdict && answer.verdict.present ? "yes" : "no"}`,
        title: answer.verdict ? `The map's peak beats ${Math.round(100 * answer.verdict.confidence)}% of this `
          + `collection's random ${answer.verdict.calibrated_by} pairs (z ${answer.verdict.z.toFixed(2)}; `
          + `"here" from z ${answer.verdict.threshold})` : "Index some files in this space to calibrate a verdict" },
      verdictText(answer)));
    media.append(layer);
    button.setAttribute("aria-pressed", "true");
    shown.add(cardNode);
  } catch (err) {
    toast(err.message);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && shown.size) {
    for (const node of [...shown]) hide(node);
  }
});
