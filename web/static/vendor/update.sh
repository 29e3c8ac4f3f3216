#!/usr/bin/env bash
# Refresh the vendored front-end files of the agent console (and of /docs).
#
# The console's JavaScript is committed in this folder so that neither CI nor
# the running server needs npm. npm is needed only here, by whoever updates the
# libraries: this script installs exactly what package-lock.json pins (npm ci)
# in a throw-away directory and copies only the files the console loads, plus
# each package's licence. Running it again with the same lockfile gives
# byte-identical files, so `git status` after a run shows only real updates.
#
# To move to newer versions: edit the ranges in package.json if needed, run
#   (cd web/static/vendor && npm install --package-lock-only --ignore-scripts)
# then this script, and commit package.json, package-lock.json and the files.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# A temporary directory keeps node_modules out of the work tree (and out of
# git), and starts from nothing each run, so stale files cannot leak in.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$here/package-lock.json" "$work/"
# --ignore-scripts: nothing the console needs is built at install time, and a
# package's install script has no business running on a developer's machine.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

nm="$work/node_modules"

# Copy one file from node_modules with fixed permissions, failing loudly if a
# new release moved it (rather than silently vendoring nothing).
copy() {
    local src="$nm/$1" dest="$here/$2"
    if [[ ! -f "$src" ]]; then
        echo "update.sh: $1 is not in the installed package; has its layout changed?" >&2
        exit 1
    fi
    install -m 0644 "$src" "$dest"
}

# A package.json field, read with node (present wherever npm is).
field() {
    node -p "require(process.argv[1])[process.argv[2]]" "$nm/$1/package.json" "$2"
}

# htmx 4: the minified browser (IIFE) build, which defines window.htmx, and the
# server-sent-events extension from the same release (it registers itself as
# "sse" when loaded after htmx; htmx 4 has no hx-ext attribute).
copy htmx.org/dist/htmx.min.js htmx.min.js
copy htmx.org/dist/ext/hx-sse.min.js hx-sse.min.js
copy htmx.org/LICENSE htmx.LICENSE

# Alpine's browser build, which starts Alpine on its own when loaded.
copy alpinejs/dist/cdn.min.js alpine.min.js

# The alpinejs package ships no LICENSE file, only "license": "MIT" in its
# package.json; the text below is the LICENSE.md of Alpine's source repository.
# Check the field so that a change of licence stops the update instead of
# going unnoticed. cdn.min.js bundles @vue/reactivity and @vue/shared, so
# their MIT notices (which those packages do ship) are appended.
alpine_licence="$(field alpinejs license)"
if [[ "$alpine_licence" != "MIT" ]]; then
    echo "update.sh: alpinejs now declares licence '$alpine_licence', not MIT; review alpinejs.LICENSE by hand" >&2
    exit 1
fi
{
    cat <<'EOF'
# MIT License

Copyright © 2019-2021 Caleb Porzio and contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
EOF
    for bundled in @vue/reactivity @vue/shared; do
        if [[ ! -f "$nm/$bundled/LICENSE" ]]; then
            echo "update.sh: $bundled ships no LICENSE any more; review alpinejs.LICENSE by hand" >&2
            exit 1
        fi
        printf '\n---\n\nalpine.min.js includes %s (%s), under this licence:\n\n' \
            "$bundled" "$(field "$bundled" license)"
        cat "$nm/$bundled/LICENSE"
    done
} >"$here/alpinejs.LICENSE"
chmod 0644 "$here/alpinejs.LICENSE"

# Redoc's standalone browser build, which /docs loads: it bundles React and its
# other dependencies, and starts itself on the page's <redoc spec-url> element.
# Besides the package's LICENSE, the bundles ship the licence comments webpack
# extracted: redoc.standalone.js points to the first by name, and the search
# worker it inlines points to the second (named by a hash that changes with
# each release, hence the glob; stale copies of earlier releases go first).
copy redoc/bundles/redoc.standalone.js redoc.standalone.js
copy redoc/bundles/redoc.standalone.js.LICENSE.txt redoc.standalone.js.LICENSE.txt
copy redoc/LICENSE redoc.LICENSE
workers=("$nm"/redoc/bundles/*.worker.js.LICENSE.txt)
if [[ ${#workers[@]} -ne 1 || ! -f "${workers[0]}" ]]; then
    echo "update.sh: expected one redoc/bundles/*.worker.js.LICENSE.txt; has its layout changed?" >&2
    exit 1
fi
worker_licence="$(basename "${workers[0]}")"
if ! grep -qF "see $worker_licence" "$here/redoc.standalone.js"; then
    echo "update.sh: redoc.standalone.js does not point to $worker_licence; review its licences by hand" >&2
    exit 1
fi
rm -f "$here"/*.worker.js.LICENSE.txt
copy "redoc/bundles/$worker_licence" "$worker_licence"

# Sanity check: each vendored build carries the version npm installed, so a
# wrong or truncated file cannot be committed by mistake.
check_version() {
    local file="$1" version="$2"
    if ! grep -qF "$version" "$here/$file"; then
        echo "update.sh: $file does not contain version $version" >&2
        exit 1
    fi
}
htmx_version="$(field htmx.org version)"
alpine_version="$(field alpinejs version)"
redoc_version="$(field redoc version)"
check_version htmx.min.js "version=\"$htmx_version\""
check_version alpine.min.js "version:\"$alpine_version\""
check_version redoc.standalone.js "ReDoc Version: \",\"$redoc_version\""

echo "vendored htmx.org $htmx_version (htmx.min.js, hx-sse.min.js), alpinejs $alpine_version (alpine.min.js) and redoc $redoc_version (redoc.standalone.js) into $here"
