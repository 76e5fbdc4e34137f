// The 3D viewer dialog: three.js (viewer.js) is loaded on the first 3D click only. Opened from a result of
// a text or sound query, it offers "Colour by match": the shape's explain answer (one cosine per part,
// centred in the frame the viewer draws in) blended onto the drawn vertices; the toggle or Esc restores it.

import * as api from "./api.js";
import { $, toast } from "./dom.js";
import { describe } from "./format.js";
import { blendScores, colourScores, rampGradient } from "./shading.js";

let viewerModule = null;
let current = null;        // {item, query} of the open viewer
let painted = false;

function verdictLine(answer) {
  const v = answer.verdict;
  if (!v) return `peak ${answer.peak.toFixed(2)} · uncalibrated`;
  return `${v.present ? "Here" : "Not here"} · ${Math.round(100 * v.confidence)}%`;
}

function restoreColours() {
  if (!painted) return;
  viewerModule?.restore();
  painted = false;
  $("#viewer-match").setAttribute("aria-pressed", "false");
  $("#viewer-legend").hidden = true;
  $("#viewer").dataset.match = "off";
}

async function colourByMatch() {
  if (painted) { restoreColours(); return; }
  const button = $("#viewer-match");
  const opened = current;
  button.setAttribute("aria-busy", "true");
  try {
    const answer = await api.explain(opened.item.id, opened.query, { overlay: false });
    if (opened !== current || !viewerModule) return;       // the viewer moved on meanwhile
    const values = answer.values.flat();
    const scores = blendScores(viewerModule.positions(), answer.centres, values);
    viewerModule.paint(colourScores(scores, values));
    painted = true;
    button.setAttribute("aria-pressed", "true");
    $("#legend-low").textContent = Math.min(...values).toFixed(2);
    $("#legend-high").textContent = Math.max(...values).toFixed(2);
    const verdict = $("#legend-verdict");
    verdict.textContent = verdictLine(answer);
    verdict.className = `where-verdict ${answer.verdict && answer.verdict.present ? "yes" : "no"}`;
    $("#viewer-legend").hidden = false;
    $("#viewer").dataset.match = "on";
  } catch (err) {
    toast(err.message);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

/** Open the dialog on a 3D item and draw its geometry; `query` ({text} or {audio: File}, or null) is what
 * "Colour by match" looks for. */
export async function openViewer(item, query = null) {
  const dialog = $("#viewer");
  restoreColours();
  current = { item, query };
  $("#viewer-title").textContent = item.name;
  $("#viewer-meta").textContent = describe(item);
  $("#viewer-match").hidden = !query;
  dialog.dataset.state = "loading";
  if (!dialog.open) dialog.showModal();
  try {
    viewerModule = viewerModule || await import("./viewer.js");
    const geometry = await api.geometry(item.geometry_url);
    if (!dialog.open) return;
    await viewerModule.show($("#viewer-canvas"), geometry);
    dialog.dataset.state = "ready";
    dialog.dataset.kind = geometry.kind;
  } catch (err) {
    dialog.dataset.state = "error";
    toast(err.message);
  }
}

export function setupViewer() {
  const dialog = $("#viewer");
  const close = () => { if (dialog.open) dialog.close(); };
  $(".legend-bar").style.background = rampGradient();
  $("#viewer-close").addEventListener("click", close);
  $("#viewer-match").addEventListener("click", colourByMatch);
  dialog.addEventListener("click", (event) => { if (event.target === dialog) close(); });  // the backdrop
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (painted && dialog.open) {           // the first Esc restores the shape's colours, the next one closes
      event.preventDefault();
      restoreColours();
      return;
    }
    close();
  });
  dialog.addEventListener("cancel", (event) => { if (painted) { event.preventDefault(); restoreColours(); } });
  dialog.addEventListener("close", () => {
    restoreColours();
    current = null;
    viewerModule?.pause();
    dialog.dataset.state = "closed";
  });
}
