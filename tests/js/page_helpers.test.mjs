// Unit tests of the page's pure helpers (run by `node --test tests/js/`; tests/test_page_script.py runs it).
import assert from "node:assert/strict";
import { test } from "node:test";

import { describe, formatBytes, formatDuration, jobProgress, posterTime, scoreStrength } from "../../mcrsearch/server/static/format.js";
import { acceptList, fileField, queryUrl, readQuery, searchParams, splitNegatives, weightKey, whyLines } from "../../mcrsearch/server/static/query.js";

const CONSTANTS = {
  extensions: { image: [".jpg", ".png"], audio: [".wav", ".m4a"], points: [".obj", ".ply"], text: [".txt"] },
  modalities: ["image", "text", "audio", "3d"], default_k: 20, max_k: 200,
  job_states: { active: ["queued", "running"], finished: ["done", "failed", "cancelled"] },
};

test("durations and sizes", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(75.4), "1:15");
  assert.equal(formatBytes(null), "");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KB");
  assert.equal(formatBytes(50 * 1024 ** 2), "50 MB");
});

test("an item's short description follows its modality", () => {
  assert.equal(describe({ modality: "image", details: { width: 640, height: 480 } }), "640×480");
  assert.equal(describe({ modality: "audio", details: { duration: 61 } }), "1:01");
  assert.equal(describe({ modality: "text", details: { text: "a red  thing" } }), "3 words");
  assert.equal(describe({ modality: "text", details: { caption: "one" } }), "1 word");
  assert.equal(describe({ modality: "3d", details: {} }), "3D");
  assert.equal(scoreStrength(3.2), "high");
  assert.equal(scoreStrength(1.5), "mid");
  assert.equal(scoreStrength(-0.3), "low");
});

test("a file's query kind comes from the server's extension list, then its MIME type", () => {
  assert.equal(fileField("Song.M4A", "", CONSTANTS.extensions), "audio");
  assert.equal(fileField("chair.ply", "", CONSTANTS.extensions), "points");
  assert.equal(fileField("note.txt", "", CONSTANTS.extensions), "text");
  assert.equal(fileField("photo.heic", "image/heic", CONSTANTS.extensions), "image");
  assert.equal(fileField("clip.xyz", "audio/x-unknown", CONSTANTS.extensions), "audio");
  assert.equal(fileField("archive.zip", "application/zip", CONSTANTS.extensions), null);
  assert.equal(fileField("README", "", CONSTANTS.extensions), null);
  assert.equal(acceptList(CONSTANTS.extensions), "image/*,audio/*,video/*,.jpg,.png,.wav,.m4a,.obj,.ply,.txt");
});

test("a query survives the URL both ways, defaults left out", () => {
  const state = { text: " red car ", like: { id: "abc" }, target: "image", k: 5, minScore: 1.5 };
  assert.equal(searchParams(state, 10).toString(), "text=red+car&like=abc&target=image&k=5&offset=10&min_score=1.5");
  const url = queryUrl(state, 20);
  assert.deepEqual(readQuery(url.slice(1), CONSTANTS),
    { text: "red car", likeId: "abc", target: "image", minScore: 1.5, k: 5, notTexts: [], notLikeIds: [], weights: {},
      where: {} });
  assert.equal(queryUrl({ text: "x", like: null, target: "any", k: 20, minScore: null }, 20), "/?text=x");
  assert.equal(queryUrl({ text: "", like: null, target: "any", k: 20, minScore: null }, 20), "/");
});

test("out-of-bounds URL values take their defaults (k above the server's max_k, unknown targets)", () => {
  const q = readQuery("?k=201&target=video&min_score=abc", CONSTANTS);
  assert.equal(q.k, 20);
  assert.equal(q.target, "any");
  assert.equal(q.minScore, null);
  assert.equal(readQuery("?k=200&target=3D", CONSTANTS).k, 200);
  assert.equal(readQuery("?k=200&target=3D", CONSTANTS).target, "3d");
  assert.equal(readQuery("?k=0", CONSTANTS).k, 20);
});

test("job progress: a bar, whether it still moves, one line of counts", () => {
  const job = { state: "running", done: 5, total: 20, indexed: 4, unchanged: 1, removed: 0, failed: 0, error: null };
  const p = jobProgress(job, CONSTANTS.job_states.active);
  assert.equal(p.running, true);
  assert.equal(p.percent, 25);
  assert.equal(p.counts, "5 / 20 files · 4 indexed · 1 unchanged · 0 removed · 0 failed");
  const failed = jobProgress({ ...job, state: "failed", total: 0, error: "disk full" }, CONSTANTS.job_states.active);
  assert.equal(failed.running, false);
  assert.equal(failed.percent, 100);
  assert.ok(failed.counts.endsWith("disk full") && failed.counts.includes("? files"));
  assert.equal(jobProgress({ ...job, state: "queued", total: 0 }, CONSTANTS.job_states.active).percent, 0);
});

test("negatives, weights and filters survive the URL both ways", () => {
  const state = { text: "a dog", like: null, target: "image", k: 20, minScore: null, notTexts: ["cartoon", "red car"],
    notLikes: [{ id: "n1" }], weights: { "not-text": 2, like: 1 }, where: { type: "wav, glb", under: "/m", min_duration: "" } };
  const params = searchParams(state);
  assert.equal(params.toString(),
    "text=a+dog&target=image&k=20&not_text=cartoon&not_text=red+car&not_like=n1&weight=not-text%3D2&under=%2Fm&type=wav&type=glb");
  const back = readQuery(`?${params}`, CONSTANTS);
  assert.deepEqual(back.notTexts, ["cartoon", "red car"]);
  assert.deepEqual(back.notLikeIds, ["n1"]);
  assert.deepEqual(back.weights, { "not-text": 2 });
  assert.deepEqual(back.where, { under: "/m", type: "wav, glb" });
  assert.deepEqual(readQuery("?weight=text%3D0&weight=bad&weight=audio%3D-1", CONSTANTS).weights, { audio: -1 });
});

test("the search box's -word and -\"some words\" are negatives", () => {
  assert.deepEqual(splitNegatives('a dog -cartoon -"red car" park'), { text: "a dog park", notTexts: ["cartoon", "red car"] });
  assert.deepEqual(splitNegatives("well-known x"), { text: "well-known x", notTexts: [] });
  assert.deepEqual(splitNegatives("-only"), { text: "", notTexts: ["only"] });
  assert.equal(weightKey("points", true), "not-3d");
  assert.equal(weightKey("like", false), "like");
});

test("why this result: each input's share and the hops it took", () => {
  const hit = { inputs: [{ input: "dog.wav", negative: false, weight: 1, cosine: 0.31234, z: 2.5, contribution: 2.5,
    path: ["audio", "CLAP encoder", "head (CLAP->CLIP)", "exmcr space", "head (ULIP->CLIP)", "ULIP encoder", "3d"],
    emergent: true }] };
  assert.deepEqual(whyLines(hit), ["like dog.wav: +2.50 (cosine 0.312, z 2.50, weight 1)",
    "  audio → CLAP encoder → head (CLAP->CLIP) → exmcr space → head (ULIP->CLIP) → ULIP encoder → 3d (emergent)"]);
  assert.deepEqual(whyLines({}), []);
});

test("a video hit's poster moment lies inside its segment", () => {
  assert.equal(posterTime({ details: { start: 10, end: 20 } }), 11);
  assert.equal(posterTime({ details: { start: 4, end: 5 } }), 4.5);
  assert.equal(posterTime({ details: {} }), 0);
  assert.equal(posterTime({}), 0);
  assert.equal(posterTime({ details: { start: 7, end: 3 } }), 7);     // a bad range stays at its start
});
