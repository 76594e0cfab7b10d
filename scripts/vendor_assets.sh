#!/usr/bin/env bash
# `make assets`: refresh the vendored front-end files in static/vendor/ from the
# versions pinned in package.json / package-lock.json.
#
# Why vendored and committed: the site never loads JS from a CDN, and `make run`
# must work on a machine that has only Python and make. So npm is needed only
# by whoever bumps a version, never to run or test the project.
#
# How: `npm ci --ignore-scripts` installs exactly what the lockfile says into a
# throwaway folder (no node_modules/ left in the work tree, and no package's
# install scripts run); the pinned dist files are then copied byte for byte.
# The copies are header-free on purpose: no provenance banner is prepended, so
# each file stays identical to the one in the published package and its
# sha256 can be checked against a fresh install. Provenance lives beside them
# in static/vendor/VERSIONS.txt (package, version, file, sha256), which
# tests/test_vendored_assets.py checks against the files and package.json.
#
# To upgrade: change the exact version in package.json, run
# `npm install --package-lock-only --ignore-scripts`, then `make assets`, and
# commit package.json, package-lock.json and static/vendor/ together.
set -euo pipefail
cd "$(dirname "$0")/.."

VENDOR_DIR=static/vendor

# One line per vendored file: <package> <path inside the package> <name in static/vendor/>.
# The minified build only: templates load it directly, and no source map is
# shipped so nothing asks the server for one that is not there.
ASSETS=(
    "htmx.org dist/htmx.min.js htmx.min.js"
    # The UMD build (a global `Chart`, its colour dependency bundled in) loads
    # with a plain <script> tag: no bundler, no module loader.
    "chart.js dist/chart.umd.min.js chart.umd.min.js"
)

command -v npm >/dev/null || { echo "vendor_assets: npm is required to refresh assets" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp package.json package-lock.json "$work/"
# --ignore-scripts: vendoring needs the published files only, never code run at
# install time. --no-audit/--no-fund: nothing to report for a copy-only install.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

mkdir -p "$VENDOR_DIR"
versions="$work/VERSIONS.txt"
{
    echo "# Vendored front-end assets, written by scripts/vendor_assets.sh (make assets)."
    echo "# Do not edit by hand. Columns: package version file sha256"
} > "$versions"

for entry in "${ASSETS[@]}"; do
    read -r package src dest <<< "$entry"
    pkg_dir="$work/node_modules/$package"
    # The version actually installed, read from the package itself rather than
    # from package.json, so the record cannot disagree with the copied bytes.
    version="$(node -p "require(process.argv[1]).version" "$pkg_dir/package.json")"
    cp "$pkg_dir/$src" "$VENDOR_DIR/$dest"
    sum="$(sha256sum "$VENDOR_DIR/$dest" | cut -d' ' -f1)"
    echo "$package $version $dest $sum" >> "$versions"
    echo "vendored $package@$version -> $VENDOR_DIR/$dest"
done

cp "$versions" "$VENDOR_DIR/VERSIONS.txt"
