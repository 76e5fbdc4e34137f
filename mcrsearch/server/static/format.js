// Pure helpers (no DOM): how the page words durations, sizes, items, scores and job progress.
// Unit-tested with `node --test` (tests/js/).

const COMPACT = new Intl.NumberFormat(undefined, { notation: "compact" });
export const MODALITY_LABEL = { image: "Image", audio: "Sound", "3d": "3D", text: "Text", video: "Video" };
export const FIELD_LABEL = { image: "Image", audio: "Sound", points: "3D", video: "Video" };

/** 75.4 -> "1:15". */
/** A video hit's poster moment: a frame inside its matched segment (its start, plus up to a second). */
export function posterTime(item) {
  const d = item.details || {};
  const start = typeof d.start === "number" ? d.start : 0;
  const end = typeof d.end === "number" ? d.end : start;
  return start + Math.min(1, Math.max(0, end - start) / 2);
}

export function formatDuration(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** 1536 -> "1.5 KB"; null -> "". */
export function formatBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/** A short line about an item: size, length, point count or word count. */
export function describe(item) {
  const d = item.details || {};
  if (item.modality === "image" && d.width) return `${d.width}×${d.height}`;
  if (item.modality === "audio" && d.duration !== undefined) return formatDuration(d.duration);
  if (item.modality === "3d" && d.point_count) return `${COMPACT.format(d.point_count)} points`;
  if (item.modality === "video" && d.duration !== undefined) {
    return `${formatDuration(d.duration)}${d.has_audio === false ? " · silent" : ""}`;
  }
  if (item.modality === "text") {
    const words = (d.text || d.caption || "").split(/\s+/).filter(Boolean).length;
    return words ? `${words} word${words === 1 ? "" : "s"}` : "";
  }
  return MODALITY_LABEL[item.modality] || item.modality;
}

/** The badge colour of a calibrated score. */
export function scoreStrength(score) {
  return score >= 3 ? "high" : score >= 1.5 ? "mid" : "low";
}

/** A job's bar (0-100), whether it is still moving, and its counts as one line. */
export function jobProgress(job, activeStates) {
  const running = activeStates.includes(job.state);
  const percent = job.total ? Math.min(100, (100 * job.done) / job.total) : (running ? 0 : 100);
  const parts = [`${job.done.toLocaleString()} / ${job.total ? job.total.toLocaleString() : "?"} files`,
    `${job.indexed} indexed`, `${job.unchanged} unchanged`, `${job.removed} removed`, `${job.failed} failed`];
  if (job.error) parts.push(job.error);
  return { running, percent, counts: parts.join(" · ") };
}
