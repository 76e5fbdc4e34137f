// Unit tests of the 3D "colour by match" helpers (run by `node --test tests/js/`).
import assert from "node:assert/strict";
import { test } from "node:test";

import { RAMP, blendScores, colourScores, rampColour, rampGradient } from "../../mcrsearch/server/static/shading.js";

test("a vertex on a part centre takes that part's value; between two parts a blend of theirs", () => {
  const centres = [[-1, 0, 0], [1, 0, 0], [0, 5, 0]];
  const values = [0.2, 0.8, 0.5];
  const positions = new Float32Array([-1, 0, 0, 1, 0, 0, 0, 0, 0, -0.5, 0, 0]);
  const s = blendScores(positions, centres, values, 2);
  assert.ok(Math.abs(s[0] - 0.2) < 1e-6 && Math.abs(s[1] - 0.8) < 1e-6);
  assert.ok(Math.abs(s[2] - 0.5) < 1e-6);              // half-way: equal weights
  assert.ok(s[3] > 0.2 && s[3] < 0.5);                   // nearer the low part
  assert.equal(blendScores(new Float32Array(0), centres, values).length, 0);
  // k larger than the parts is fine, and one part gives every vertex its value
  assert.deepEqual(Array.from(blendScores(positions, [[0, 0, 0]], [0.3], 5)), [0.3, 0.3, 0.3, 0.3].map(Math.fround));
});

test("the ramp runs blue to red and the colours span the parts' range", () => {
  assert.deepEqual(rampColour(0), RAMP[0]);
  assert.deepEqual(rampColour(1), RAMP[RAMP.length - 1]);
  assert.deepEqual(rampColour(-3), RAMP[0]);
  assert.deepEqual(rampColour(NaN), RAMP[0]);
  const c = colourScores(new Float32Array([0.2, 0.8]), [0.2, 0.8]);
  assert.equal(c.length, 6);
  assert.ok(c[2] > c[0] && c[3] > c[5]);                 // low: blue; high: red
  assert.match(rampGradient(), /^linear-gradient\(90deg, rgb\(30, 40, 160\) 0%, .* 100%\)$/);
  const flat = colourScores(new Float32Array([0.5]), [0.5, 0.5]);
  assert.deepEqual(Array.from(flat), RAMP[0].map(Math.fround));   // a flat map: no division by zero
});
