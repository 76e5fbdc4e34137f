// Colour a 3D result by where it matches (pure helpers; the viewer paints what they compute).
// A shape's explain answer gives one cosine per part with the part's centre in the frame the viewer
// draws in; each drawn vertex gets the inverse-distance blend of its nearest part centres, as
// HeatMap.point_scores does on the server, and the blend is mapped onto the overlay's colour ramp.

/** The overlay's ramp (mcrsearch/explain.py _colormap): blue -> cyan -> yellow -> red, as 0..1 RGB. */
export const RAMP = [[30, 40, 160], [40, 190, 220], [250, 220, 60], [220, 40, 30]].map((c) => c.map((v) => v / 255));

/** The ramp at t in [0, 1] as [r, g, b] in 0..1. */
export function rampColour(t) {
  const pos = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(Math.floor(pos), RAMP.length - 2);
  const f = pos - i;
  return RAMP[i].map((v, ch) => v * (1 - f) + RAMP[i + 1][ch] * f);
}

/** The ramp as a CSS gradient (the legend). */
export function rampGradient() {
  const stops = RAMP.map((c, i) => `rgb(${c.map((v) => Math.round(v * 255)).join(", ")}) ${Math.round((100 * i) / (RAMP.length - 1))}%`);
  return `linear-gradient(90deg, ${stops.join(", ")})`;
}

/** Per-vertex scores: `positions` flat xyz (Float32Array), `centres` [[x, y, z]], `values` [cosine];
 * each vertex gets the inverse-square-distance blend of its `k` nearest centres. */
export function blendScores(positions, centres, values, k = 3) {
  const n = Math.floor(positions.length / 3);
  const parts = Math.min(centres.length, values.length);
  const kk = Math.max(1, Math.min(k, parts));
  const out = new Float32Array(n);
  const bestD = new Float64Array(kk);
  const bestI = new Int32Array(kk);
  for (let v = 0; v < n; v += 1) {
    const x = positions[v * 3], y = positions[v * 3 + 1], z = positions[v * 3 + 2];
    bestD.fill(Infinity);
    for (let p = 0; p < parts; p += 1) {
      const c = centres[p];
      const d = (x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2;
      if (d >= bestD[kk - 1]) continue;
      let j = kk - 1;                              // insertion into the k nearest, nearest first
      while (j > 0 && bestD[j - 1] > d) { bestD[j] = bestD[j - 1]; bestI[j] = bestI[j - 1]; j -= 1; }
      bestD[j] = d;
      bestI[j] = p;
    }
    let wsum = 0, acc = 0;
    for (let j = 0; j < kk; j += 1) {
      const w = 1 / Math.max(bestD[j], 1e-12);       // squared distance: 1 / d^2 weights
      wsum += w;
      acc += w * values[bestI[j]];
    }
    out[v] = acc / wsum;
  }
  return out;
}

/** Vertex colours (flat rgb, Float32Array) for scores min-max scaled over the parts' own range. */
export function colourScores(scores, values) {
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi > lo ? hi - lo : 1;
  const out = new Float32Array(scores.length * 3);
  for (let i = 0; i < scores.length; i += 1) out.set(rampColour((scores[i] - lo) / span), i * 3);
  return out;
}
