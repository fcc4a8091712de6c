#!/usr/bin/env bash
# Measures EdgeRuntime against ONNX Runtime and rewrites BENCHMARKS.md. Not part of ./test.sh (minutes, not seconds).
#
#   bench/run-benchmarks.sh [--host-only | --arm-only] [--runs N] [--warmup N] [--rounds R]
#
# Host section: publishes edgerun Native AOT for linux-x64 (the installed binary), runs `edgerun bench --backend both --json` (native and ONNX Runtime interleaved in one
#   process) for MobileNetV2 1.0 224 and MobileNetV1 0.25/0.5/0.75 at 1 and 2 threads, R times over (rounds, default
#   3: every configuration once per round, so a noisy stretch of a shared host hits one round of each rather than
#   every run of one row; the table gives the median over rounds and each round's ratio), plus the QGemm GOPS table
#   of bench/QuantizedKernels.Benchmarks --quick. For every 2-thread command it records how far apart the host had put
#   the two CPUs (edgerun bench's cpu_round_trip_ns_before/_after: a cache line's round trip between two threads), which
#   on the shared KVM build machine decides whether a second thread helps much.
# ARM section: publishes edgerun Native AOT for linux-arm64 and counts guest instructions per MobileNetV2 inference,
#   native and ONNX Runtime (its linux-arm64 library), under qemu-aarch64 -cpu cortex-a72 (Pi 4: NEON, no dot
#   product) and -cpu cortex-a76 (Pi 5: SDOT) with ../shared/tools/arm64-icount. Per inference = (count with N+K
#   inferences - count with N) / K in one process, so loading and start-up cancel out. Installs the Debian packages
#   it needs (as root).
# Each section of BENCHMARKS.md sits between marker comments; a run replaces only the sections it measured.
set -euo pipefail

# The commit the numbers belong to, marked when the tree had uncommitted changes (which the run measured too).
revision() {
  local rev
  rev=$(git rev-parse --short HEAD 2>/dev/null) || { echo '?'; return; }
  if [ -n "$(git status --porcelain --untracked-files=no -- . ':!BENCHMARKS.md' 2>/dev/null)" ]; then echo "$rev + uncommitted changes"; else echo "$rev"; fi
}
cd "$(dirname "$0")/.."
root=$(pwd)

runs=30 warmup=5 rounds=3 do_host=1 do_arm=1
arm_n=1 arm_k=2 # ARM: inferences in the short and the long run (N and N+K)
while [ $# -gt 0 ]; do
  case "$1" in
    --host-only) do_arm=0 ;;
    --arm-only) do_host=0 ;;
    --runs) runs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run-benchmarks.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

shared="${EDGE_SHARED:-$root/../shared}"
models_dir="$shared/models/converted"
[ -f "$models_dir/mobilenet_v2_1.0_224_quant.onnx" ] || { echo "run-benchmarks.sh: models not found in $models_dir (set EDGE_SHARED)" >&2; exit 1; }
shared_rel=../shared # how BENCHMARKS.md names the folder, independent of this machine's paths
out="$root/artifacts/bench"; mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
models=(mobilenet_v2_1.0_224_quant mobilenet_v1_0.25_128_quant mobilenet_v1_0.5_160_quant mobilenet_v1_0.75_192_quant)
started=$(date +%s)

log() { printf '== %s\n' "$*" >&2; }
# Values of a flat JSON object (as edgerun bench --json prints it): jnum KEY JSON, jstr KEY JSON.
jnum() { grep -o "\"$1\":[^,}]*" <<<"$2" | head -1 | cut -d: -f2; }
jstr() { grep -o "\"$1\":\"[^\"]*\"" <<<"$2" | head -1 | cut -d'"' -f4; }
ms() { [ "$1" = null ] && echo "–" || printf '%.2f' "$1"; }
bytes() { [ "$1" = null ] && echo "–" || awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MiB", b/1048576; else printf "%.0f KiB", b/1024 }'; }
millions() { awk -v n="$1" 'BEGIN { if (n == 0) print "0"; else printf "%.1f M", n/1e6 }'; }

# Replaces the text between <!-- NAME:begin --> and <!-- NAME:end --> in BENCHMARKS.md with file $2 (appends the
# section when absent).
replace_section() {
  local name=$1 body=$2 doc="$root/BENCHMARKS.md"
  [ -f "$doc" ] || printf '# EdgeRuntime benchmarks\n\nWritten by `bench/run-benchmarks.sh`; do not edit by hand.\n' >"$doc"
  if grep -q "<!-- $name:begin -->" "$doc"; then
    awk -v name="$name" -v body="$body" '
      $0 == "<!-- " name ":begin -->" { print; while ((getline line < body) > 0) print line; skip = 1; next }
      $0 == "<!-- " name ":end -->" { skip = 0 }
      !skip { print }' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
  else
    { printf '\n<!-- %s:begin -->\n' "$name"; cat "$body"; printf '<!-- %s:end -->\n' "$name"; } >>"$doc"
  fi
}

# ---------------------------------------------------------------------------------------------------------------------
host_section() {
  # The binary measured is the one users install: edgerun published Native AOT for linux-x64 (its x86-64-v3
  # baseline turns the runtime's AVX-512 flags into constant false, so a JIT build can run code this one does not).
  log "publish edgerun Native AOT linux-x64; build the kernel benchmarks (Release)"
  local pub=artifacts/edgerun-linux-x64
  dotnet publish src/EdgeRuntime/EdgeRuntime.csproj -c Release -r linux-x64 -p:PublishAot=true -p:IlcTreatWarningsAsErrors=false -o "$pub" -nologo -v q >&2
  dotnet build bench/QuantizedKernels.Benchmarks/QuantizedKernels.Benchmarks.csproj -c Release -nologo -v q >&2
  local edgerun=$pub/edgerun md="$out/host.md" cpu="" commands=() rows=()
  : >"$out/host.jsonl"
  : >"$out/host.tsv"
  commands+=("dotnet publish src/EdgeRuntime/EdgeRuntime.csproj -c Release -r linux-x64 -p:PublishAot=true -p:IlcTreatWarningsAsErrors=false -o $pub")
  for model in "${models[@]}"; do
    for threads in 1 2; do
      commands+=("$pub/edgerun bench --model $shared_rel/models/converted/$model.onnx --backend both --threads $threads --warmup $warmup --runs $runs --json")
    done
  done
  for round in $(seq 1 "$rounds"); do
    for model in "${models[@]}"; do
      for threads in 1 2; do
        local args=(bench --model "$models_dir/$model.onnx" --backend both --threads "$threads" --warmup "$warmup" --runs "$runs" --json)
        log "round $round/$rounds: edgerun ${args[*]}"
        local j; j=$("$edgerun" "${args[@]}")
        local before after
        before=$(jnum cpu_round_trip_ns_before "$j"); after=$(jnum cpu_round_trip_ns_after "$j")
        [ "$before" = null ] && before=""
        [ "$after" = null ] && after=""
        echo "$j" >>"$out/host.jsonl"
        cpu=$(jstr cpu "$j")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$model" "$threads" \
          "$(jnum native_median_ms "$j")" "$(jnum native_p90_ms "$j")" "$(jnum ort_median_ms "$j")" "$(jnum ort_p90_ms "$j")" \
          "$(jnum ratio "$j")" "$(jnum native_min_ms "$j")" "$(jnum ort_min_ms "$j")" "$(jstr isa "$j")" \
          "$(jnum arena_bytes "$j")" "$(jnum packed_weight_bytes "$j")" "$(jnum peak_rss_bytes "$j")" \
          "${before:+$before/$after}" >>"$out/host.tsv"
      done
    done
  done
  # One row per model and thread count: medians over rounds, each round's ratio, the fastest runs of all rounds.
  for model in "${models[@]}"; do
    for threads in 1 2; do
      local stats; stats=$(awk -F'\t' -v m="$model" -v t="$threads" '
        function median(list,   n, a, i, j, x) {
          n = split(list, a, " ")
          for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
          return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        $1 == m && $2 == t {
          nm = nm " " $3; np = np " " $4; om = om " " $5; op = op " " $6; r = r " " $7
          rounds = rounds (rounds == "" ? "" : " / ") sprintf("%.2f", $7)
          if (nmin == "" || $8 + 0 < nmin + 0) nmin = $8
          if (omin == "" || $9 + 0 < omin + 0) omin = $9
          isa = $10; arena = $11; packed = $12; if ($13 + 0 > rss + 0) rss = $13
          placement = placement (placement == "" ? "" : " · ") ($14 == "" ? "–" : $14)
        }
        END { printf "%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\n", median(nm), median(np), median(om), median(op), median(r), rounds, nmin / omin, isa, arena, packed, rss, placement }' "$out/host.tsv")
      local f; IFS=$'\t' read -r -a f <<<"$stats"
      local where="${f[11]}"; [ "$threads" -gt 1 ] || where="–"
      rows+=("| $model | $threads | ${f[0]} | ${f[1]} | ${f[2]} | ${f[3]} | **${f[4]}** | ${f[5]} | ${f[6]} | ${f[7]} | $(bytes "${f[8]}") / $(bytes "${f[9]}") | $(bytes "${f[10]}") | $where |")
    done
  done
  log "QGemm GOPS (--quick)"
  local gemm; gemm=$(dotnet bench/QuantizedKernels.Benchmarks/bin/Release/net10.0/QuantizedKernels.Benchmarks.dll --quick)

  {
    echo "## Latency on the build machine"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(revision), CPU: $cpu ($(nproc) cores visible), edgerun Native AOT linux-x64 (.NET SDK $(dotnet --version)), ONNX Runtime 1.31.1 (NuGet)."
    echo "Synthetic seeded input; $runs measured runs per engine after $warmup warm-up runs, native and ONNX Runtime"
    echo "alternating run by run in one process (ORT: full graph optimizations, same intra-op thread count); every command"
    echo "below ran $rounds times, in $rounds rounds over all of them. Both engines'"
    echo "threads spin within a run and block between runs (ORT: \`session.force_spinning_stop\`), so neither engine's idle"
    echo "threads take a core from the other's runs and neither pays a thread wake-up per op."
    echo "Latency of \`EdgeModel.Run\` including input copy/conversion. Ratio = native median / ORT median (below 1: native is faster);"
    echo "the table gives the median over rounds of each column and of the ratio, each round's ratio, and the peak RSS of the largest round."
    echo "The machine is shared (other builds run on it): compare within a row, not across runs. The fastest-run ratio"
    echo "(native fastest / ORT fastest) shows what each engine does when the host leaves it alone; the target is on medians."
    echo "CPU placement: for 2-thread rows, a cache line's round trip between two threads in ns before/after each round's"
    echo "measured runs (\`cpu_round_trip_ns_before\` / \`_after\` of \`edgerun bench --json\`)."
    echo "About 50–130 ns: the host kept both vCPUs close; about 300–700 ns: it had put them apart (Zen 4: 300–400, Zen 5: 430–700), and then a second"
    echo "thread gains much less (MobileNetV2 native alone: 3.0–3.2 against 2.0–2.1 ms, 2026-11-28), so such"
    echo "rounds say more about the host than about the code."
    echo
    echo '```'
    printf '%s\n' "${commands[@]}"
    echo '```'
    echo
    echo "| model | threads | native median ms | native p90 ms | ORT median ms | ORT p90 ms | native/ORT | by round | fastest-run ratio | isa | arena / weights | peak RSS | CPU placement, ns by round |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|---:|---|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "### QGemm.Multiply on MobileNetV2 pointwise shapes"
    echo
    echo '```'
    echo "dotnet run -c Release --project bench/QuantizedKernels.Benchmarks -- --quick   # BenchmarkDotNet: omit --quick"
    echo "$gemm" | sed '/^$/d'
    echo '```'
  } >"$md"
  replace_section host "$md"
}

# ---------------------------------------------------------------------------------------------------------------------
arm_section() {
  local need=()
  command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
  [ -f /usr/aarch64-linux-gnu/lib/libc.so.6 ] || need+=(libc6-arm64-cross libc6-dev-arm64-cross)
  [ -f /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || need+=(libstdc++6-arm64-cross libgcc-s1-arm64-cross)
  command -v clang >/dev/null || need+=(clang lld llvm)
  command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu)
  command -v gcc >/dev/null || need+=(gcc libc6-dev)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
  fi

  log "build the arm64-icount qemu plugin"
  mkdir -p artifacts/arm64-icount
  gcc -O2 -shared -fPIC -o artifacts/arm64-icount/libicount.so "$shared/tools/arm64-icount/icount.c"
  log "publish edgerun Native AOT linux-arm64"
  # ImageSharp's own trim/AOT warnings arrive collapsed as IL2104/IL3053 and cannot be fixed here, so ILC warnings
  # must not fail the publish (edgerun bench never decodes images).
  local pub=artifacts/edgerun-linux-arm64
  dotnet publish src/EdgeRuntime/EdgeRuntime.csproj -c Release -r linux-arm64 -p:PublishAot=true -p:IlcTreatWarningsAsErrors=false -o "$pub" -nologo -v q >&2
  [ -f "$pub/libonnxruntime.so" ] || { echo "run-benchmarks.sh: $pub/libonnxruntime.so missing (ORT linux-arm64 native library)" >&2; exit 1; }

  local model="$models_dir/mobilenet_v2_1.0_224_quant.onnx" md="$out/arm.md" rows=() notes=()
  # ONNX Runtime's cpuinfo library parses /proc/cpuinfo, which qemu-user 7.2 passes through from the x86 host; on
  # arm64 it then dereferences null while initialising (SIGSEGV before the session exists). So each qemu process
  # runs in a private mount namespace where /proc/cpuinfo is an ARM one matching -cpu (MIDR part, features).
  # Kernel dispatch itself (EdgeRuntime's Dp.IsSupported, MLAS's HWCAP checks) follows qemu's -cpu, not this file.
  fake_cpuinfo() { # CPU -> file
    local part features f="$out/cpuinfo-$1"
    case "$1" in
      cortex-a72) part=0xd08 features="fp asimd evtstrm crc32 cpuid" ;;
      cortex-a76) part=0xd0b features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" ;;
    esac
    : >"$f"
    for ((p = 0; p < $(getconf _NPROCESSORS_CONF); p++)); do
      printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: %s\nCPU revision\t: 0\n\n' "$p" "$features" "$part" >>"$f"
    done
    echo "$f"
  }
  local use_ns=1
  if ! unshare -m --propagation private sh -c "mount --bind '$(fake_cpuinfo cortex-a76)' /proc/cpuinfo" 2>/dev/null; then
    use_ns=0
    notes+=("- Could not bind an ARM /proc/cpuinfo in a private mount namespace (needs root / CAP_SYS_ADMIN and util-linux unshare): ONNX Runtime crashes under qemu-user without it.")
  fi
  # count CPU BACKEND RUNS -> "total sdot sdot_elem udot smull smull_elem smlal smlal_elem sadalp umull umlal uadalp isa"
  # of one process, or FAILED.
  count() {
    local err="$out/qemu-$1-$2-$3.err" json
    local qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu "$1" -plugin "$root/artifacts/arm64-icount/libicount.so" -d plugin
      "$pub/edgerun" bench --model "$model" --backend "$2" --threads 1 --warmup 0 --runs "$3" --json)
    [ "$use_ns" -eq 0 ] || qemu=(unshare -m --propagation private sh -c 'mount --bind "$0" /proc/cpuinfo && exec "$@"' "$(fake_cpuinfo "$1")" "${qemu[@]}")
    if ! json=$("${qemu[@]}" 2>"$err"); then
      echo "FAILED"; return 0
    fi
    local t e
    t=$(grep -o 'icount: .*' "$err" | tail -1); e=$(grep -o 'icount-ext: .*' "$err" | tail -1)
    f() { grep -o "$1=[0-9]*" <<<"$2" | head -1 | cut -d= -f2; }
    echo "$(f total "$t") $(f sdot "$t") $(f sdot_elem "$e") $(f udot "$e") $(f smull "$t") $(f smull_elem "$e") $(f smlal "$e") $(f smlal_elem "$e") $(f sadalp "$t") $(f umull "$e") $(f umlal "$e") $(f uadalp "$e") $(jstr isa "$json")"
  }
  local per_cpu_native per_cpu_ort
  for cpu in cortex-a72 cortex-a76; do
    declare -A per=()
    for backend in native ort; do
      local cmd="qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu $cpu -plugin artifacts/arm64-icount/libicount.so -d plugin artifacts/edgerun-linux-arm64/edgerun bench --model $shared_rel/models/converted/mobilenet_v2_1.0_224_quant.onnx --backend $backend --threads 1 --warmup 0 --runs {$arm_n,$((arm_n + arm_k))} --json"
      log "$cmd"
      local a b; a=$(count "$cpu" "$backend" "$arm_n"); b=$(count "$cpu" "$backend" "$((arm_n + arm_k))")
      if [ "$a" = FAILED ] || [ "$b" = FAILED ]; then
        notes+=("- $backend on $cpu failed under qemu: $(tail -3 "$out/qemu-$cpu-$backend-$arm_n.err" | tr '\n' ' ')")
        per[$backend]=""
        continue
      fi
      read -r -a x <<<"$a"; read -r -a y <<<"$b"
      local d=() i
      for i in 0 1 2 3 4 5 6 7 8 9 10 11; do d[i]=$(( (y[i] - x[i]) / arm_k )); done
      per[$backend]=${d[0]}
      local isa=${y[12]}; [ "$backend" = ort ] && isa="(MLAS)"
      rows+=("| $cpu | $backend | $isa | $(millions "${d[0]}") | $(millions $((d[1] + d[2]))) | $(millions "${d[3]}") | $(millions $((d[4] + d[5]))) | $(millions $((d[6] + d[7]))) | $(millions "${d[8]}") | $(millions "${d[9]}") | $(millions "${d[10]}") | $(millions "${d[11]}") |")
      echo "$cpu $backend $a / $b" >>"$out/arm-raw.txt"
    done
    if [ -n "${per[native]:-}" ] && [ -n "${per[ort]:-}" ]; then
      rows+=("| $cpu | **native/ORT** | | **$(awk -v a="${per[native]}" -v b="${per[ort]}" 'BEGIN { printf "%.2f", a/b }')** | | | | | | | | |")
    fi
    unset per
  done

  {
    echo "## ARM64 instruction counts (qemu)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(revision), $(qemu-aarch64 --version | head -1), edgerun Native AOT linux-arm64,"
    echo "ONNX Runtime 1.31.1's linux-arm64 \`libonnxruntime.so\` loaded by the same executable. MobileNetV2 1.0 224 uint8, 1 thread."
    echo "Guest instructions per inference = (count of a process with $((arm_n + arm_k)) inferences - one with $arm_n) / $arm_k, counted by"
    echo "\`$shared_rel/tools/arm64-icount\`; MAC columns count the multiply-accumulate instructions that ran (which kernel path was used)."
    echo "Instruction counts are not cycles: compare native with ORT on the same \`-cpu\`, never as latency."
    echo "Each qemu process runs in a private mount namespace with an ARM \`/proc/cpuinfo\` for its \`-cpu\` (\`unshare -m\` +"
    echo "\`mount --bind\`): qemu-user passes the x86 host's file through, and ONNX Runtime's cpuinfo initialisation then crashes"
    echo "(SIGSEGV at session creation). Kernel selection follows \`-cpu\` (HWCAP), not that file."
    echo
    echo '```'
    echo "dotnet publish src/EdgeRuntime/EdgeRuntime.csproj -c Release -r linux-arm64 -p:PublishAot=true -p:IlcTreatWarningsAsErrors=false -o artifacts/edgerun-linux-arm64"
    echo "gcc -O2 -shared -fPIC -o artifacts/arm64-icount/libicount.so $shared_rel/tools/arm64-icount/icount.c"
    for cpu in cortex-a72 cortex-a76; do for backend in native ort; do for n in $arm_n $((arm_n + arm_k)); do
      echo "qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu $cpu -plugin artifacts/arm64-icount/libicount.so -d plugin artifacts/edgerun-linux-arm64/edgerun bench --model $shared_rel/models/converted/mobilenet_v2_1.0_224_quant.onnx --backend $backend --threads 1 --warmup 0 --runs $n --json"
    done; done; done
    echo '```'
    echo
    echo "| -cpu | engine | isa | instructions / inference | SDOT | UDOT | SMULL | SMLAL | SADALP | UMULL | UMLAL | UADALP |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
    [ ${#notes[@]} -eq 0 ] || { echo; printf '%s\n' "${notes[@]}"; }
  } >"$md"
  replace_section arm "$md"
}

[ "$do_host" -eq 1 ] && host_section
host_done=$(date +%s)
[ "$do_arm" -eq 1 ] && arm_section
log "done: host $((host_done - started)) s, arm $(( $(date +%s) - host_done )) s; wrote BENCHMARKS.md"
