#!/usr/bin/env bash
# Instructions per function of one MobileNetV2 inference of edgerun's Native AOT linux-arm64 build under qemu-aarch64:
#   bench/arm-profile/arm-profile.sh [--cpu cortex-a72|cortex-a76] [--bin DIR] [--top N] [--model M] [--blocks TEXT]
# DIR holds edgerun and its symbol file edgerun.dbg (what `dotnet publish -r linux-arm64 -p:PublishAot=true` writes;
# default artifacts/edgerun-linux-arm64). Runs the model once and three times with the tbprofile plugin and prints,
# per function, the guest instructions of (3 runs - 1 run) / 2 = one warm inference, highest first.
# --blocks TEXT: instead, the N hottest translated blocks of the functions whose symbol contains TEXT, each with its
# instructions per inference, executions and disassembly (aarch64-linux-gnu-objdump), to see what a kernel's loop is
# made of (register copies, address arithmetic) rather than only its total.
# A profiler for finding where ARM instructions go, not a benchmark: BENCHMARKS.md's counts come from run-benchmarks.sh.
# Totals move by about 1 M between runs (garbage-collector work inside the bench); compare per-function figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cpu=cortex-a72 bin="$root/artifacts/edgerun-linux-arm64" top=25 blocks=
model="${EDGE_SHARED:-$root/../shared}/models/converted/mobilenet_v2_1.0_224_quant.onnx"
while [ $# -gt 0 ]; do
  case $1 in
    --cpu) cpu=$2; shift ;;
    --bin) bin=$2; shift ;;
    --top) top=$2; shift ;;
    --model) model=$2; shift ;;
    --blocks) blocks=$2; shift ;;
    *) echo "usage: $0 [--cpu NAME] [--bin DIR] [--top N] [--model M] [--blocks TEXT]" >&2; exit 2 ;;
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
python3 - "$tmp" "$top" "$cpu" "$blocks" "$bin/edgerun" <<'PY'
import bisect, collections, subprocess, sys
tmp, top, cpu, blocks, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
addresses, names = [], []
for line in open(f"{tmp}/symbols.txt"):
    a, n = line.split(maxsplit=1)
    addresses.append(int(a, 16)); names.append(n.strip())
sizes = {}
def per_function(path):
    counts = collections.Counter()
    for line in open(path):
        if not line.startswith("tb "): continue
        _, va, n, e = line.split()
        counts[int(va, 16)] += int(n) * int(e)
        sizes[int(va, 16)] = int(n)
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
def name_of(va):
    i = bisect.bisect_right(addresses, va - base) - 1
    return names[i] if i >= 0 and va - base - addresses[i] < 1 << 20 else "(outside edgerun)"
if blocks:
    hot = sorted(((three[va] - one.get(va, 0)) / 2, va) for va in three if blocks in name_of(va))[::-1][:top]
    print(f"{cpu}: hottest blocks of functions matching '{blocks}' (instructions per warm inference)")
    for n, va in hot:
        size = sizes[va]
        print(f"--- {n / 1e6:.3f} M  block at 0x{va - base:x}, {size} instructions, {n / size:.0f} executions  {name_of(va)}")
        text = subprocess.run(["aarch64-linux-gnu-objdump", "-d", "--no-show-raw-insn", f"--start-address=0x{va - base:x}",
                               f"--stop-address=0x{va - base + 4 * size:x}", binary], capture_output=True, text=True).stdout
        print("\n".join(line for line in text.splitlines() if "\t" in line and line.strip()[:1] in "0123456789abcdef"))
    sys.exit(0)
a1, a3 = attribute(one, base), attribute(three, base)
diff = {k: (a3[k] - a1.get(k, 0)) / 2 for k in a3}
total = sum(diff.values())
print(f"{cpu}: {total / 1e6:.1f} M guest instructions per warm inference (load base 0x{base:x})")
for name, n in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
    print(f"{n / 1e6:9.2f} M  {100 * n / total:5.1f}%  {name}")
PY
