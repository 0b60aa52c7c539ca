#!/usr/bin/env bash
# CI: run every fuzz target (func FuzzXxx in a _test.go file) for a bounded
# time, seeded by its corpus under testdata/fuzz. A crash fails CI and the
# failing input is written to that package's testdata/fuzz for a regression.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-8s}"
git ls-files '*_test.go' | xargs grep -l '^func Fuzz' | sort | while read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
    echo "== fuzz $pkg $target ($fuzztime)"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
  done
done
