#!/usr/bin/env bash
# Runs EdgeRuntime's whole test suite: restores and builds, runs every xunit project, and ends with the line
# "N passed, N failed". Installs what the tests need on a fresh Debian 12 machine (run as root in CI).
# Real models and photos are read from ../shared beside the checkout, or from $EDGE_SHARED.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)

log() { printf '\n== %s\n' "$*"; }

# --- what the tests need -------------------------------------------------------------------------------------------
need_apt=()
command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if [ -z "${EDGE_SHARED:-}" ] && [ -d "$root/../shared" ]; then export EDGE_SHARED="$root/../shared"; fi
if [ -z "${EDGE_SHARED:-}" ] || [ ! -d "$EDGE_SHARED" ]; then
  if [ "${CI:-}" = "true" ]; then echo "test.sh: ../shared (or \$EDGE_SHARED) with the real models is missing" >&2; exit 1; fi
  echo "test.sh: warning: ../shared not found; tests that need real models will fail" >&2
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log "build (Release)"
dotnet build EdgeRuntime.sln -c Release -nologo -v q || { echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
results="$root/artifacts/test-results"; rm -rf "$results"; mkdir -p "$results"

for proj in tests/QuantizedKernels.Tests tests/EdgeRuntime.Tests; do
  name=$(basename "$proj")
  log "dotnet test $name"
  dotnet test "$proj" -c Release --no-build -nologo --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --logger "console;verbosity=minimal" 2>&1 | tee "$results/$name.log"
  trx="$results/$name.trx"
  if [ -f "$trx" ]; then
    p=$(grep -o '<Counters [^>]*' "$trx" | grep -o 'passed="[0-9]*"' | grep -o '[0-9]*')
    f=$(grep -o '<Counters [^>]*' "$trx" | grep -oE ' failed="[0-9]*"' | grep -o '[0-9]*')
    e=$(grep -o '<Counters [^>]*' "$trx" | grep -oE ' error="[0-9]*"' | grep -o '[0-9]*')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0}))
  else
    echo "no test results for $name"; failed=$((failed + 1))
  fi
done

# --- ISA paths: selftest per x86 path here, and ARM64 under qemu (cortex-a72: NEON, cortex-a76: SDOT) ------------------
# (section filled by the ARM verification work; each stage adds to passed/failed)

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
