// The one shared video player: a video result plays from its matched moment here, with the matched segment
// (and the video's other matching segments) marked on a timeline under it. One <video> element for the
// whole page, so only one video streams at a time (media by id answers HTTP Range, so it seeks at once).

import { el } from "./dom.js";
import { formatDuration } from "./format.js";

let dock = null;

function ensureDock() {
  if (dock) return dock;
  const video = el("video", { controls: true, preload: "metadata", playsinline: true, "aria-label": "Video result" });
  const marks = el("div", { class: "timeline", "aria-hidden": "true" });
  const title = el("span", { class: "dock-title" });
  const close = el("button", { type: "button", class: "icon-btn", title: "Close the player", "aria-label": "Close the player",
    onclick: () => { video.pause(); dock.root.hidden = true; } }, "×");
  const root = el("aside", { id: "video-dock", class: "video-dock", "aria-label": "Video player", hidden: true },
    el("div", { class: "dock-head" }, title, close), video, marks);
  document.body.append(root);
  dock = { root, video, marks, title };
  return dock;
}

function mark(start, end, duration, kind) {
  const left = Math.max(0, Math.min(100, (100 * start) / duration));
  const width = Math.max(0.8, Math.min(100 - left, (100 * (end - start)) / duration));
  return el("span", { class: `seg ${kind}`, style: `left:${left}%;width:${width}%`,
    title: `${formatDuration(start)}–${formatDuration(end)}` });
}

/** Play `item` (a video hit) from `start` seconds; mark [start, end) and its other matching `segments`. */
export function playAt(item, start = 0, end = start) {
  const d = ensureDock();
  const details = item.details || {};
  const duration = details.duration || end || 1;
  d.title.textContent = `${item.name} · ${formatDuration(start)}–${formatDuration(end)}` +
    (details.matched ? ` (matched by its ${details.matched})` : "");
  d.marks.replaceChildren(...(details.segments || []).map((s) => mark(s.start, s.end, duration, "other")),
    mark(start, end, duration, "best"));
  d.root.hidden = false;
  const seek = () => { d.video.currentTime = start; d.video.play().catch(() => {}); };
  d.root.dataset.id = item.id;
  d.root.dataset.start = String(start);
  if (d.video.dataset.src !== item.media_url) {
    d.video.dataset.src = item.media_url;
    d.video.src = item.media_url;
    d.video.addEventListener("loadedmetadata", seek, { once: true });
  } else {
    seek();
  }
}
