#!/usr/bin/env bash
# CI: the console's browser tests (build tag `browser`): headless Chromium,
# driven by chromedp, against the built junction binary. Installs Debian's
# chromium when it is missing. Screenshots are saved under
# $JUNCTION_ARTIFACTS/browser (default e2e/artifacts/browser, gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
fi
export JUNCTION_CHROMIUM="${JUNCTION_CHROMIUM:-$(command -v chromium)}"
export JUNCTION_ARTIFACTS="${JUNCTION_ARTIFACTS:-$PWD/e2e/artifacts}"

echo "== vet (browser tag)"
go vet -tags browser ./e2e/

echo "== browser tests"
go test -count=1 -tags browser -run Browser ./e2e/
echo "screenshots: $JUNCTION_ARTIFACTS/browser"
