#!/usr/bin/env bash
# Streams one request from a running silo's /generate_stream and prints the tokens per second one
# client receives (first byte to last, and request to last).
#
#   scripts/measure-stream.sh [URL] [ADAPTER] [TOKENS]      # defaults: http://127.0.0.1:8000 sample-1 200
set -euo pipefail
url=${1:-http://127.0.0.1:8000}
adapter=${2:-sample-1}
tokens=${3:-200}
body="{\"inputs\": \"Once upon a time\", \"lora_dir\": \"$adapter\", \"parameters\": {\"max_new_tokens\": $tokens, \"ignore_eos\": true}}"
start=$(date +%s.%N)
count=$(curl -sfN "$url/generate_stream" -d "$body" | grep -c '"token"')
end=$(date +%s.%N)
awk -v n="$count" -v s="$start" -v e="$end" -v a="$adapter" \
  'BEGIN { printf "%d tokens from %s in %.2f s: %.1f tokens/s to one client\n", n, a, e - s, n / (e - s) }'
