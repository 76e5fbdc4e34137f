// The 3D viewer dialog: three.js (viewer.js) is loaded on the first 3D click only.

import * as api from "./api.js";
import { $, toast } from "./dom.js";
import { describe } from "./format.js";

let viewerModule = null;

/** Open the dialog on a 3D item and draw its geometry. */
export async function openViewer(item) {
  const dialog = $("#viewer");
  $("#viewer-title").textContent = item.name;
  $("#viewer-meta").textContent = describe(item);
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
  $("#viewer-close").addEventListener("click", close);
  dialog.addEventListener("click", (event) => { if (event.target === dialog) close(); });  // the backdrop
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  dialog.addEventListener("close", () => { viewerModule?.pause(); dialog.dataset.state = "closed"; });
}
