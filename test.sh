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
# ARM64 cross-compilation (Native AOT) and emulation for the "ISA paths" stage (see ../shared/README.md).
for pkg in qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross clang lld llvm gcc-aarch64-linux-gnu \
           libc6-dev-arm64-cross binutils-aarch64-linux-gnu gcc \
           binutils \
           fonts-dejavu-core; do  # binutils: GNU as, to check the avx512vnni machine code against its source  # a font for modelconv's SQNR chart (ScottPlot/SkiaSharp draw no text without one)
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
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
  # Category=Measurement: timings for QUANTIZATION.md, run by scripts/evaluate-quantization.sh, never asserted here.
  dotnet test "$proj" -c Release --no-build -nologo --filter "Category!=Measurement" --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
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
# Publishes edgerun with Native AOT for linux-x64 and linux-arm64 (cross-compiled), then runs `edgerun selftest`, which
# compares every SIMD kernel path with the scalar definition. Each selftest adds its "N passed, N failed"; each
# publish and each "did the expected path really run" check adds one pass or failure.
isa_stage() { # isa_stage LABEL COMMAND... : runs a selftest, adds its counts, leaves its output in $stage_out
  local label=$1; shift
  log "selftest: $label"
  stage_out=$("$@" 2>&1); local rc=$?
  printf '%s\n' "$stage_out" | tee "$results/selftest-${label// /_}.log" | grep -v '^  .* 0 failed$'
  local summary; summary=$(printf '%s\n' "$stage_out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
  if [ -z "$summary" ]; then echo "selftest $label: no summary line (exit code $rc)"; failed=$((failed + 1)); return; fi
  local p=${summary%% passed*} f=${summary#*passed, }; f=${f%% failed*}
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then echo "selftest $label: exit code $rc"; failed=$((failed + 1)); fi
}
expect() { # expect DESCRIPTION CONDITION-COMMAND... : one pass or one failure
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok: $what"; else failed=$((failed + 1)); echo "FAILED: $what"; fi
}
exercised_has() { printf '%s\n' "$stage_out" | grep -E '^Exercised:' | tr ' ' '\n' | grep -qx "$1"; }
exercised_lacks() { ! exercised_has "$1"; }
# The shipped (trimmed, Native AOT) binary must decode every photo format and agree with the JIT build: trimming can
# break reflection inside ImageSharp (EXIF in JPEGs) without any test of the JIT build noticing. (The x64 AOT binary
# targets x86-64-v3 like this machine's JIT, so ImageSharp's SIMD resize takes the same path in both.)
shared_dir="${EDGE_SHARED:-$root/../shared}"
classify_photos() { # classify_photos EDGERUN-COMMAND... : top-5 of every shared photo, timings removed
  "$@" classify --model "$shared_dir/models/converted/mobilenet_v1_0.25_128_quant.onnx" --label-offset 1 \
    --labels "$shared_dir/models/coral/imagenet_labels.txt" "$shared_dir"/images/*/*.{jpg,png,bmp} 2>&1 |
    sed -E 's/ +\([0-9.]+ ms, [a-z]+\)$//' | grep -v '^median latency'
}
aot_publish() { # aot_publish RID DIR : Native AOT publish; the only tolerated ILC warnings are ImageSharp's (see below)
  local rid=$1 dir=$2 logf="$results/publish-$1.log"
  log "dotnet publish -r $rid -p:PublishAot=true"
  # SixLabors.ImageSharp 2.1 is not trim-annotated: its IL2075 (Exif tag descriptions) and IL3050 (EnumUtils.Parse)
  # arrive collapsed as IL2104/IL3053 and cannot be fixed here. ILC warnings therefore do not stop the publish, and
  # any other warning (our code, other packages) fails the stage below.
  rm -rf "$dir"
  dotnet publish src/EdgeRuntime -c Release -r "$rid" -p:PublishAot=true -p:IlcTreatWarningsAsErrors=false -o "$dir" -nologo \
    >"$logf" 2>&1
  local rc=$?
  local unexpected; unexpected=$(grep -E ': (warning|error) ' "$logf" | grep -vE "SixLabors\.ImageSharp.*(IL2104|IL3053)|NU1603" | sort -u)
  [ -n "$unexpected" ] && printf '%s\n' "$unexpected"
  expect "AOT publish $rid (exit code $rc, no unexpected warnings)" test "$rc" -eq 0 -a -z "$unexpected" -a -x "$dir/edgerun"
}
isa_start=$(date +%s)

aot_x64="$root/artifacts/aot/linux-x64"
aot_publish linux-x64 "$aot_x64"
# Every x86 path this machine has, on the JIT build from above (EDGE_ISA forces each), then the AOT binary once with
# its own paths (it is compiled for x86-64-v3: avx2, vector128, scalar; see src/EdgeRuntime/EdgeRuntime.csproj; plus
# avx512vnni, whose machine code does not depend on the compiled instruction set, where the CPU has AVX512_VNNI).
jit_edgerun="$root/src/EdgeRuntime/bin/Release/net10.0/edgerun"
if [ -x "$jit_edgerun" ]; then
  x86_paths=$("$jit_edgerun" selftest --isa scalar 2>/dev/null | sed -n 's/^Supported: //p')
  expect "x64 selftest lists the supported paths" test -n "$x86_paths"
  for path in $x86_paths; do
    EDGE_ISA=$path isa_stage "x64 $path" "$jit_edgerun" selftest
    expect "x64 selftest exercised exactly $path" test "$(printf '%s\n' "$stage_out" | sed -n 's/^Exercised: //p')" = "$path"
  done
else
  expect "JIT build of edgerun exists ($jit_edgerun)" false
fi
# The AOT binary's x86-64-v3 baseline makes the runtime's AVX-512 flags (Avx512BW.IsSupported,
# Vector512.IsHardwareAccelerated, ...) constant false, so C# code behind them would be tested here by the JIT build
# and silently never run in the shipped binary (B packing for avx512vnni was, until it moved into machine code).
csharp_avx512=$(grep -rnE '\b(Avx512(F|BW|CD|DQ|Vbmi|Vbmi2)|Avx10v[0-9])\b|\bVector512\b' --include='*.cs' "$root/src" \
  | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
[ -z "$csharp_avx512" ] || printf '%s\n' "$csharp_avx512"
expect "no C# AVX-512 intrinsics in src (dead code in the Native AOT build; the avx512vnni path is machine code)" test -z "$csharp_avx512"
if [ -x "$aot_x64/edgerun" ]; then
  isa_stage "x64 aot" "$aot_x64/edgerun" selftest
  if grep -qw avx512_vnni /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
    expect "x64 AOT selftest exercised avx512vnni (this CPU lists avx512_vnni)" exercised_has avx512vnni
  fi
fi
jit_photos=$(classify_photos "$jit_edgerun")
expect "JIT classify of every shared photo (jpg, png, bmp)" test "$(printf '%s\n' "$jit_photos" | grep -c '^/')" -ge 15
expect "Native AOT x64 classifies every shared photo like the JIT build" test "$(classify_photos "$aot_x64/edgerun")" = "$jit_photos"

aot_arm64="$root/artifacts/aot/linux-arm64"
aot_publish linux-arm64 "$aot_arm64"
if [ -x "$aot_arm64/edgerun" ]; then
  qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
  isa_stage "arm64 cortex-a72" "${qemu[@]}" -cpu cortex-a72 "$aot_arm64/edgerun" selftest
  expect "cortex-a72 (Pi 4) exercised neon" exercised_has neon
  expect "cortex-a72 (Pi 4) did not claim neondot" exercised_lacks neondot
  isa_stage "arm64 cortex-a76" "${qemu[@]}" -cpu cortex-a76 "$aot_arm64/edgerun" selftest
  expect "cortex-a76 (Pi 5) exercised neondot" exercised_has neondot
  # ImageSharp's ARM64 resize rounds differently from its x64 SIMD code, so probabilities may move by a few
  # output steps; the top-1 class of every photo must not.
  top1() { awk '/^\// { file = $0; getline; sub(/^ *[0-9.]+ +/, ""); print file " -> " $0 }'; }
  expect "Native AOT arm64 (cortex-a72) classifies every shared photo with the x64 build's top-1" \
    test "$(classify_photos "${qemu[@]}" -cpu cortex-a72 "$aot_arm64/edgerun" | top1)" = "$(printf '%s\n' "$jit_photos" | top1)"

  # Instruction counts prove the intended instructions executed: SMULL/SADALP and no SDOT for neon on the A72,
  # SDOT for neondot on the A76 (qemu plugin from ../shared/tools/arm64-icount).
  icount_src="${EDGE_SHARED:-$root/../shared}/tools/arm64-icount/icount.c"
  icount_lib="$root/artifacts/icount/libicount.so"
  if [ -f "$icount_src" ] && mkdir -p "$(dirname "$icount_lib")" && \
     gcc -O2 -shared -fPIC -o "$icount_lib" "$icount_src"; then
    icount_of() { # icount_of CPU ISA : prints "name=value" pairs of the plugin's report
      "${qemu[@]}" -cpu "$1" -plugin "$icount_lib" -d plugin "$aot_arm64/edgerun" selftest --isa "$2" 2>&1 |
        grep -E '^icount' | tr ' ' '\n' | grep '='
    }
    counter() { local v; v=$(printf '%s\n' "$2" | sed -n "s/^$1=//p" | head -1); echo "${v:--1}"; }
    a72=$(icount_of cortex-a72 neon); a76=$(icount_of cortex-a76 neondot)
    echo "cortex-a72 neon:    smull=$(counter smull "$a72") sadalp=$(counter sadalp "$a72") sdot=$(counter sdot "$a72") sdot_elem=$(counter sdot_elem "$a72")"
    echo "cortex-a76 neondot: sdot=$(counter sdot "$a76") sdot_elem=$(counter sdot_elem "$a76")"
    expect "SMULL and SADALP executed on cortex-a72, no SDOT" \
      test "$(counter smull "$a72")" -gt 0 -a "$(counter sadalp "$a72")" -gt 0 -a "$(counter sdot "$a72")" -eq 0 -a "$(counter sdot_elem "$a72")" -eq 0
    expect "SDOT executed on cortex-a76" test "$(counter sdot "$a76")" -gt 0 -o "$(counter sdot_elem "$a76")" -gt 0
  else
    expect "arm64-icount plugin built" false
  fi
  # The per-function instruction profiler (bench/arm-profile) works on this build: the SDOT depthwise and GEMM
  # kernels are among the A76's top functions.
  profile=$(bench/arm-profile/arm-profile.sh --bin "$aot_arm64" --cpu cortex-a76 --top 8 2>&1); echo "$profile"
  expect "arm-profile names the SDOT GEMM and depthwise kernels on cortex-a76" \
    sh -c 'printf "%s\n" "$1" | grep -q KernelNeonDot4x16 && printf "%s\n" "$1" | grep -q OutputsNeonDot3x3' _ "$profile"
  # Its --blocks view disassembles a kernel's hottest blocks: the SDOT depthwise loop must show SDOT and TBL.
  hot_blocks=$(bench/arm-profile/arm-profile.sh --bin "$aot_arm64" --cpu cortex-a76 --blocks OutputsNeonDot3x3Stride1 --top 1 2>&1)
  expect "arm-profile --blocks disassembles the SDOT depthwise loop (sdot, tbl)" \
    sh -c 'printf "%s\n" "$1" | grep -q "sdot" && printf "%s\n" "$1" | grep -q "tbl"' _ "$hot_blocks"
fi
echo "ISA paths stage: $(( $(date +%s) - isa_start )) s"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
