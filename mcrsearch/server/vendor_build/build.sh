#!/usr/bin/env bash
# Rebuild ../static/vendor/viewer-three.js: three.js (+ OrbitControls) bundled by esbuild into one ES module, so the
# page loads nothing from a CDN. npm runs in a scratch folder; node_modules never enters the repository.
# Usage: mcrsearch/server/vendor_build/build.sh [scratch-dir]   (needs node + npm and the npm registry)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
vendor="$here/../static/vendor"
scratch="${1:-$(mktemp -d)}"
mkdir -p "$scratch" "$vendor"
cp "$here/package.json" "$here/entry.js" "$scratch/"
cd "$scratch"
npm install --no-audit --no-fund --ignore-scripts >/dev/null
three_version="$(node -p 'require("./node_modules/three/package.json").version')"
esbuild_version="$(node -p 'require("./node_modules/esbuild/package.json").version')"
./node_modules/.bin/esbuild entry.js --bundle --format=esm --minify --legal-comments=none \
  --banner:js="/* three.js ${three_version} (MIT, see LICENSE-three.txt) bundled by esbuild ${esbuild_version}; rebuild: mcrsearch/server/vendor_build/build.sh */" \
  --outfile="$vendor/viewer-three.js" --log-level=warning
cp node_modules/three/LICENSE "$vendor/LICENSE-three.txt"
sha="$(sha256sum "$vendor/viewer-three.js" | cut -d' ' -f1)"
bytes="$(stat -c %s "$vendor/viewer-three.js")"
cat > "$vendor/VENDOR.json" <<JSON
{
  "file": "viewer-three.js",
  "package": "three",
  "version": "$three_version",
  "exports": "see mcrsearch/server/vendor_build/entry.js (three core classes + OrbitControls)",
  "bundler": "esbuild $esbuild_version",
  "sha256": "$sha",
  "bytes": $bytes,
  "license": "MIT",
  "license_file": "LICENSE-three.txt",
  "source": "https://www.npmjs.com/package/three/v/$three_version"
}
JSON
echo "viewer-three.js: three $three_version, $bytes bytes, sha256 $sha"
