// The one interactive 3D viewer of the page (browsers keep about 16 WebGL contexts, so results share
// this one). Loaded on the first click on a 3D result, so the first page load does not carry three.js.

import {
  BufferAttribute, BufferGeometry, CanvasTexture, Color, DirectionalLight, DoubleSide, HemisphereLight, Mesh, MeshStandardMaterial,
  PerspectiveCamera, Points, PointsMaterial, Scene, SRGBColorSpace, WebGLRenderer, OrbitControls,
} from "./vendor/viewer-three.js";

let view = null;   // {renderer, scene, camera, controls, object, frame}

function decode(base64, Type) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new Type(bytes.buffer, 0, bytes.byteLength / Type.BYTES_PER_ELEMENT);
}

function setup(canvas) {
  // preserveDrawingBuffer keeps the last frame readable (screenshots, tests reading pixels)
  const renderer = new WebGLRenderer({ canvas, antialias: true, alpha: true, preserveDrawingBuffer: true });
  renderer.outputColorSpace = SRGBColorSpace;
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  const scene = new Scene();
  scene.add(new HemisphereLight(0xffffff, 0x445066, 1.6));
  const key = new DirectionalLight(0xffffff, 2.2);
  key.position.set(-2, 3, 2.5);
  scene.add(key);
  const fill = new DirectionalLight(0xb8c6ff, 0.8);
  fill.position.set(3, -1, 2);
  scene.add(fill);
  const camera = new PerspectiveCamera(40, 1, 0.01, 100);
  const controls = new OrbitControls(camera, canvas);
  controls.enableDamping = true;
  controls.dampingFactor = 0.12;
  controls.minDistance = 0.6;
  controls.maxDistance = 12;
  controls.enablePan = false;
  const v = { renderer, scene, camera, controls, object: null, frame: 0 };
  controls.addEventListener("change", () => draw(v));
  new ResizeObserver(() => resize(v)).observe(canvas);
  return v;
}

function resize(v) {
  const canvas = v.renderer.domElement;
  const width = canvas.clientWidth || 1;
  const height = canvas.clientHeight || 1;
  v.renderer.setSize(width, height, false);
  v.camera.aspect = width / height;
  v.camera.updateProjectionMatrix();
  draw(v);
}

function draw(v) {
  v.renderer.render(v.scene, v.camera);
}

let discTexture = null;
function disc() {
  // round points: a white disc as the point sprite (alphaTest cuts the corners)
  if (discTexture) return discTexture;
  const c = document.createElement("canvas");
  c.width = c.height = 64;
  const g = c.getContext("2d");
  g.fillStyle = "#fff";
  g.beginPath();
  g.arc(32, 32, 30, 0, Math.PI * 2);
  g.fill();
  discTexture = new CanvasTexture(c);
  return discTexture;
}

function build(payload) {
  const geometry = new BufferGeometry();
  const positions = decode(payload.positions, Float32Array);
  geometry.setAttribute("position", new BufferAttribute(positions, 3));
  if (payload.kind === "mesh" && payload.indices) {
    geometry.setIndex(new BufferAttribute(decode(payload.indices, Uint32Array), 1));
    geometry.computeVertexNormals();
    const material = new MeshStandardMaterial({ color: 0x6b87dc, roughness: 0.55, metalness: 0.05, flatShading: true, side: DoubleSide });
    return new Mesh(geometry, material);
  }
  // a cloud: colour by height (blue low -> teal high), a size that suits its density
  const count = positions.length / 3;
  const colours = new Float32Array(count * 3);
  const low = new Color(0x4a6ee0);
  const high = new Color(0x5fd0c0);
  const c = new Color();
  for (let i = 0; i < count; i += 1) {
    c.copy(low).lerp(high, (positions[i * 3 + 1] + 1) / 2);
    colours.set([c.r, c.g, c.b], i * 3);
  }
  geometry.setAttribute("color", new BufferAttribute(colours, 3));
  const size = Math.min(0.08, Math.max(0.01, 1.5 / Math.sqrt(count)));
  const material = new PointsMaterial({ size, vertexColors: true, sizeAttenuation: true, map: disc(), alphaTest: 0.5, transparent: false });
  return new Points(geometry, material);
}

function loop(v) {
  cancelAnimationFrame(v.frame);
  const tick = () => {
    v.controls.update();      // damping eases the turn out after a drag
    v.frame = requestAnimationFrame(tick);
  };
  tick();
}

/** Show one object (the /geometry JSON) in the shared viewer on `canvas`; resolves after its first frame. */
export async function show(canvas, payload) {
  view = view || setup(canvas);
  if (view.object) {
    view.scene.remove(view.object);
    view.object.geometry.dispose();
    view.object.material.dispose();
  }
  view.object = build(payload);
  view.scene.add(view.object);
  // the object is in the unit sphere: at this distance a 40° view holds the whole sphere with a margin
  view.camera.position.set(1.35, 0.85, 1.9).setLength(1.15 / Math.sin((view.camera.fov * Math.PI) / 360));
  view.controls.target.set(0, 0, 0);
  view.controls.update();
  resize(view);
  loop(view);
  await new Promise((resolve) => requestAnimationFrame(() => { draw(view); resolve(); }));
}

/** The drawn object's vertex positions (flat xyz, in the unit-sphere frame the geometry comes in). */
export function positions() {
  return view && view.object ? view.object.geometry.getAttribute("position").array : new Float32Array(0);
}

/** Paint the object with per-vertex colours (flat rgb in 0..1); `restore` undoes it. */
export function paint(colours) {
  const o = view && view.object;
  if (!o) return;
  if (!o.userData.original) {
    o.userData.original = { colour: o.geometry.getAttribute("color") || null, vertexColors: o.material.vertexColors,
      tint: o.material.color.getHex() };
  }
  o.geometry.setAttribute("color", new BufferAttribute(colours, 3));
  o.material.vertexColors = true;
  o.material.color.setHex(0xffffff);          // vertex colours are multiplied by the material colour
  o.material.needsUpdate = true;
  draw(view);
}

/** Undo `paint`: the object's own colours again. */
export function restore() {
  const o = view && view.object;
  if (!o || !o.userData.original) return;
  const { colour, vertexColors, tint } = o.userData.original;
  if (colour) o.geometry.setAttribute("color", colour); else o.geometry.deleteAttribute("color");
  o.material.vertexColors = vertexColors;
  o.material.color.setHex(tint);
  o.material.needsUpdate = true;
  delete o.userData.original;
  draw(view);
}

/** Stop the render loop while the viewer is closed. */
export function pause() {
  if (view) cancelAnimationFrame(view.frame);
}
