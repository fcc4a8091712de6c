#!/usr/bin/env bash
# Measures what int8 quantization costs on real models and real photos, and rewrites QUANTIZATION.md.
# Not part of ./test.sh (minutes, not seconds); the tests check the same properties on fewer configurations.
#
#   scripts/evaluate-quantization.sh [--photos DIR]
#
# Photos: ../shared/images (15) plus the photographs of Debian's python3-skimage and opencv-doc packages
#   (scripts/fetch-photos.sh, 53). Sorted by path and dealt alternately: even positions calibrate, odd positions
#   evaluate, so no photo is used for both.
# SqueezeNet 1.1 (../shared/models/winml/SqueezeNet_fp16.onnx, BGR 0..255): quantized with every range method
#   (minmax, percentile 99.99, entropy) x weight granularity (per-channel, per-tensor), QDQ int8, then
#   `modelconv compare` on the evaluation half: top-1/top-5 agreement with the float model and the worst layer SQNR.
# Also reports the calibration wall time of each quantization.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

photos=""
while [ $# -gt 0 ]; do
  case "$1" in
    --photos) photos=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "evaluate-quantization.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

shared="${EDGE_SHARED:-$root/../shared}"
squeezenet="$shared/models/winml/SqueezeNet_fp16.onnx"
[ -f "$squeezenet" ] || { echo "evaluate-quantization.sh: $squeezenet not found (set EDGE_SHARED)" >&2; exit 1; }
[ -n "$photos" ] || photos=$(scripts/fetch-photos.sh | tail -1 | sed 's/^[0-9]* photos in //')
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet build tools/ModelConverter -c Release -nologo -v q >/dev/null
modelconv="$root/tools/ModelConverter/bin/Release/net10.0/modelconv"

out="$root/artifacts/quantization"; rm -rf "$out"; mkdir -p "$out/calibration" "$out/evaluation"
i=0
while IFS= read -r f; do
  half=calibration; [ $((i % 2)) -eq 1 ] && half=evaluation
  ln -s "$f" "$out/$half/$(printf '%03d' $i)_$(basename "$f")"
  i=$((i + 1))
done < <(find "$shared/images" "$photos" -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.bmp' \) | sort)
n_cal=$(ls "$out/calibration" | wc -l); n_eval=$(ls "$out/evaluation" | wc -l)
echo "photos: $n_cal calibration, $n_eval evaluation"

preprocess=(--color BGR --range 0,255)
json_number() { sed -n "s/.*\"$1\": *\([-0-9.eE+]*\|null\).*/\1/p" "$2" | head -1; }
fmt_pct() { awk -v v="$1" 'BEGIN { if (v == "" || v == "null") print "n/a"; else printf "%.1f%%", v * 100 }'; }

rows=()
for bias in on off; do
for granularity in per-channel per-tensor; do
  for method in minmax percentile entropy; do
    name="squeezenet_${method}_${granularity}_bias-${bias}"
    bias_flag=(); [ "$bias" = off ] && bias_flag=(--no-bias-correction)
    start=$(date +%s.%N)
    "$modelconv" quantize --model "$squeezenet" --calibration "$out/calibration" --method "$method" "--$granularity" \
      "${bias_flag[@]}" --format qdq --activations int8 "${preprocess[@]}" -o "$out/$name.onnx" > "$out/$name.quantize.log" 2>&1 \
      || { echo "quantize $name failed:"; cat "$out/$name.quantize.log"; exit 1; }
    seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
    "$modelconv" compare --float "$squeezenet" --quant "$out/$name.onnx" --images "$out/evaluation" "${preprocess[@]}" \
      --report "$out/$name.json" --chart "$out/$name.png" > "$out/$name.compare.log" 2>&1 \
      || { echo "compare $name failed:"; cat "$out/$name.compare.log"; exit 1; }
    top1=$(json_number top1_agreement "$out/$name.json"); top5=$(json_number top5_agreement "$out/$name.json")
    worst=$(python3 - "$out/$name.json" <<'EOF' 2>/dev/null || echo "n/a | n/a"
import json, sys
# layers are in graph order: the last one is the graph output
layers = [l for l in json.load(open(sys.argv[1]))["layers"] if l.get("sqnr_db") is not None]
w = min(layers, key=lambda l: l["sqnr_db"])
print(f'{w["sqnr_db"]:.1f} dB ({w["name"]}) | {layers[-1]["sqnr_db"]:.1f} dB')
EOF
)
    echo "$method $granularity bias-correction $bias: top-1 $(fmt_pct "$top1"), top-5 $(fmt_pct "$top5"), worst layer | output SQNR $worst, ${seconds}s"
    rows+=("| $method | $granularity | $bias | $(fmt_pct "$top1") | $(fmt_pct "$top5") | $worst | $seconds |")
  done
done
done

echo "timing calibration of 100 photos on a MobileNetV2-size model (tests/…/QuantizeReportTests, Category=Measurement)"
dotnet build tests/EdgeRuntime.Tests -c Release -nologo -v q >/dev/null
calibration_rows=$(QUANTIZE_REPORT_PHOTOS="$out/calibration" EDGE_SHARED="$shared" dotnet test tests/EdgeRuntime.Tests -c Release \
  --no-build -nologo --filter "FullyQualifiedName~QuantizeReportTests" --logger "console;verbosity=detailed" 2>&1 \
  | sed -n 's/^[[:space:]]*MEASURED //p')
[ -n "$calibration_rows" ] || { echo "evaluate-quantization.sh: the calibration timing produced no result" >&2; exit 1; }
echo "$calibration_rows"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
  echo "# Quantization results"
  echo
  echo "Written by \`scripts/evaluate-quantization.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $cpu, $(nproc) cores."
  echo
  echo "## SqueezeNet 1.1 (../shared/models/winml/SqueezeNet_fp16.onnx), float → int8 QDQ"
  echo
  echo "Calibrated on $n_cal real photos, evaluated on the other $n_eval (../shared/images + the photographs of Debian's"
  echo "python3-skimage and opencv-doc, dealt alternately in path order). Agreement = the int8 model's top-1 (top-5)"
  echo "contains the float model's top-1. Worst layer = lowest SQNR of any compared tensor on the evaluation photos."
  echo "Output SQNR = SQNR of the graph output (the softmax probabilities), a steadier measure than agreement on $n_eval"
  echo "photos, where one image is $(awk -v n="$n_eval" 'BEGIN { printf "%.1f", 100 / n }') points."
  echo "Bias correction (default on; off = \`--no-bias-correction\`) subtracts the mean output shift caused by rounding"
  echo "the weights from each Conv/Gemm bias."
  echo "Time = \`modelconv quantize\` wall time (load, calibration on $n_cal photos, writing)."
  echo
  echo "| method | weights | bias correction | top-1 agreement | top-5 agreement | worst layer SQNR | output SQNR | time (s) |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Command: \`modelconv quantize --model SqueezeNet_fp16.onnx --calibration CAL --method M --per-channel|--per-tensor"
  echo "[--no-bias-correction] --format qdq --activations int8 --color BGR --range 0,255 -o Q.onnx\`, then \`modelconv compare --float"
  echo "SqueezeNet_fp16.onnx --quant Q.onnx --images EVAL --color BGR --range 0,255 --report R.json\`."
  echo
  echo "## Calibration time: MobileNetV2 1.0-224 shaped float model, 100 photos"
  echo
  echo "The tests' seeded MobileNetV2 1.0-224 (3.5 M parameters, 300 M MACs); the $n_cal calibration photos repeated to 100."
  echo "Calibration = running the float model natively on every image and collecting the histograms; quantize = the whole"
  echo "\`ModelQuantizer.Quantize\` (preparation, calibration, ranges, writing)."
  echo
  echo "| model, method | quantized nodes | calibration (s) | quantize (s) |"
  echo "|---|---|---|---|"
  echo "$calibration_rows"
} > QUANTIZATION.md
echo "wrote QUANTIZATION.md"
