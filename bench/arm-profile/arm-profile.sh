#!/usr/bin/env bash
# Instructions per function of one MobileNetV2 inference of edgerun's Native AOT linux-arm64 build under qemu-aarch64:
#   bench/arm-profile/arm-profile.sh [--cpu cortex-a72|cortex-a76] [--bin DIR] [--top N] [--model M]
# DIR holds edgerun and its symbol file edgerun.dbg (what `dotnet publish -r linux-arm64 -p:PublishAot=true` writes;
# default artifacts/edgerun-linux-arm64). Runs the model once and three times with the tbprofile plugin and prints,
# per function, the guest instructions of (3 runs - 1 run) / 2 = one warm inference, highest first.
# A profiler for finding where ARM instructions go, not a benchmark: BENCHMARKS.md's counts come from run-benchmarks.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cpu=cortex-a72 bin="$root/artifacts/edgerun-linux-arm64" top=25
model="${EDGE_SHARED:-$root/../shared}/models/converted/mobilenet_v2_1.0_224_quant.onnx"
while [ $# -gt 0 ]; do
  case $1 in
    --cpu) cpu=$2; shift ;;
    --bin) bin=$2; shift ;;
    --top) top=$2; shift ;;
    --model) model=$2; shift ;;
    *) echo "usage: $0 [--cpu NAME] [--bin DIR] [--top N] [--model M]" >&2; exit 2 ;;
  esac
  shift
done
for f in "$bin/edgerun" "$bin/edgerun.dbg" "$model"; do [ -e "$f" ] || { echo "arm-profile: $f not found" >&2; exit 2; }; done
plugin="$root/artifacts/arm-profile/tbprofile.so"
mkdir -p "$(dirname "$plugin")"
gcc -O2 -shared -fPIC -o "$plugin" "$root/bench/arm-profile/tbprofile.c"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for runs in 1 3; do
  qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu "$cpu" -plugin "$plugin" -d plugin -D "$tmp/tb$runs.txt" \
    "$bin/edgerun" bench --model "$model" --backend native --threads 1 --warmup 0 --runs "$runs" >/dev/null
done
nm --defined-only "$bin/edgerun.dbg" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' | sort > "$tmp/symbols.txt"
python3 - "$tmp" "$top" "$cpu" <<'PY'
import bisect, collections, sys
tmp, top, cpu = sys.argv[1], int(sys.argv[2]), sys.argv[3]
addresses, names = [], []
for line in open(f"{tmp}/symbols.txt"):
    a, n = line.split(maxsplit=1)
    addresses.append(int(a, 16)); names.append(n.strip())
def per_function(path):
    counts = collections.Counter()
    for line in open(path):
        if not line.startswith("tb "): continue
        _, va, n, e = line.split()
        counts[int(va, 16)] += int(n) * int(e)
    return counts
one, three = per_function(f"{tmp}/tb1.txt"), per_function(f"{tmp}/tb3.txt")
# qemu-user maps a PIE executable at 0x5500000000 on a 64-bit host (its ELF_ET_DYN_BASE for aarch64 guests).
base = 0x5500000000
def attribute(counts, base):
    out = collections.Counter()
    for va, n in counts.items():
        i = bisect.bisect_right(addresses, va - base) - 1
        out[names[i] if i >= 0 and va - base - addresses[i] < 1 << 20 else "(outside edgerun)"] += n
    return out
a1, a3 = attribute(one, base), attribute(three, base)
diff = {k: (a3[k] - a1.get(k, 0)) / 2 for k in a3}
total = sum(diff.values())
print(f"{cpu}: {total / 1e6:.1f} M guest instructions per warm inference (load base 0x{base:x})")
for name, n in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
    print(f"{n / 1e6:9.2f} M  {100 * n / total:5.1f}%  {name}")
PY
