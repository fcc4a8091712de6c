#!/usr/bin/env bash
# EdgeRuntime demo: builds edgerun in Release and classifies real photos with a real int8 MobileNetV2
# (from ../shared or $EDGE_SHARED), natively and on ONNX Runtime, printing labels, scores and latency.
set -euo pipefail
cd "$(dirname "$0")"
shared=$(realpath "${EDGE_SHARED:-$(pwd)/../shared}")
model="$shared/models/converted/mobilenet_v2_1.0_224_quant.onnx"
labels="$shared/models/coral/imagenet_labels.txt"
if [ ! -f "$model" ]; then
  echo "demo.sh: $model not found; set EDGE_SHARED to the folder with models/ and images/" >&2
  exit 1
fi
images=("$shared/images/coral/grace_hopper.bmp" "$shared/images/coral/parrot.jpg" "$shared/images/coral/cat.bmp" "$shared/images/winml/fish.png")

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "== building edgerun (Release)"
dotnet build src/EdgeRuntime/EdgeRuntime.csproj -c Release -nologo -v q
edgerun=src/EdgeRuntime/bin/Release/net10.0/edgerun

echo
echo "== model"
"$edgerun" inspect "$model" | sed '/^Nodes/,/^Totals/{/^Totals/!d}'
echo
echo "== native int8 (EdgeRuntime kernels; per-image latency is one run just after loading — steady state is measured at the end)"
"$edgerun" classify --model "$model" --labels "$labels" --top 3 --backend native "${images[@]}"
echo
echo "== ONNX Runtime 1.31.1 on the same model"
"$edgerun" classify --model "$model" --labels "$labels" --top 3 --backend ort "${images[@]}"
echo
echo "== latency, native vs ONNX Runtime interleaved in one process (1 thread)"
"$edgerun" bench --model "$model" --backend both --threads 1 --warmup 20 --runs 40
