#!/usr/bin/env bash
# Vendor the browser assets the console, the portal and their tests use, from the npm
# registry at pinned versions (npm checks each tarball against the registry's integrity
# hash). Nothing is fetched at run time: the files are committed, with their licences.
# Re-run only to change a version, then commit what changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

vendor() {  # package@version, file inside the package, destination directory
  local spec="$1" file="$2" dest="$3"
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  local tarball
  tarball="$(ls "$work"/*.tgz)"
  mkdir -p "$work/x" "$dest"
  tar -xzf "$tarball" -C "$work/x"
  cp "$work/x/package/$file" "$dest/"
  for licence in "$work"/x/package/LICENSE*; do
    cp "$licence" "$dest/$(basename "$file").$(basename "$licence")"
  done
  echo "$spec $(sha256sum "$dest/$(basename "$file")" | cut -d' ' -f1)" >> "$dest/VERSIONS"
  rm -rf "$work/x" "$tarball"
}

rm -f "$root/needtoknow/web/static/vendor/VERSIONS" "$root/tests/web/vendor/VERSIONS"
vendor htmx.org@2.0.11 dist/htmx.min.js "$root/needtoknow/web/static/vendor"
vendor axe-core@4.14.1 axe.min.js "$root/tests/web/vendor"
