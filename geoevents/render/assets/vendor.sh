#!/usr/bin/env bash
# Re-fetch the pinned third-party assets of the map renderer with `npm pack` (the npm registry
# is the only source; no CDN). Run from anywhere:  bash geoevents/render/assets/vendor.sh
# The tarball's integrity is checked against the pinned value before anything is copied.
# Files are stored flat (no sub-folders) so that the package-data glob "assets/*" ships them.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"

# name@version  sha512 integrity of the npm tarball (as printed by `npm pack --json`)
LEAFLET_SPEC="leaflet@1.9.4"
LEAFLET_INTEGRITY="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

fetch() {  # fetch SPEC INTEGRITY -> unpacked into $TMP/<name>/package
    local spec="$1" integrity="$2" name="${1%@*}"
    mkdir -p "$TMP/$name"
    (cd "$TMP/$name" && npm pack --silent "$spec" >/dev/null)
    local tgz
    tgz="$(ls "$TMP/$name"/*.tgz)"
    local got
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
        echo "vendor.sh: integrity mismatch for $spec: $got" >&2
        exit 1
    fi
    tar -xzf "$tgz" -C "$TMP/$name"
}

fetch "$LEAFLET_SPEC" "$LEAFLET_INTEGRITY"
P="$TMP/leaflet/package"
cp "$P/dist/leaflet.js" "$HERE/leaflet.js"
cp "$P/dist/leaflet.css" "$HERE/leaflet.css"
for img in "$P"/dist/images/*.png; do
    cp "$img" "$HERE/leaflet-$(basename "$img")"
done
cp "$P/LICENSE" "$HERE/LICENSE-leaflet.txt"

echo "vendored $LEAFLET_SPEC into $HERE"
(cd "$HERE" && sha256sum leaflet.js leaflet.css leaflet-*.png LICENSE-leaflet.txt)
