#!/usr/bin/env bash
# CI: the browser tests (build tag `browser`): the console, the Segment web
# tag with setup screenshots, and Segment's analytics.js from npm on a page
# of another origin, in headless Chromium
# driven by chromedp, against the built junction binary. Installs Debian's
# chromium, nodejs and npm when they are missing. Screenshots are saved under
# $JUNCTION_ARTIFACTS/browser (default e2e/artifacts/browser, gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# chromium drives the tests; node and npm install and bundle Segment's
# analytics.js for the Segment browser test (cached under the user's cache
# dir, or $JUNCTION_NPM_CACHE).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi
export JUNCTION_CHROMIUM="${JUNCTION_CHROMIUM:-$(command -v chromium)}"
export JUNCTION_ARTIFACTS="${JUNCTION_ARTIFACTS:-$PWD/e2e/artifacts}"

echo "== vet (browser tag)"
go vet -tags browser ./e2e/

echo "== browser tests"
go test -count=1 -tags browser -run Browser ./e2e/
echo "screenshots: $JUNCTION_ARTIFACTS/browser"
