#!/usr/bin/env bash
# Object storage: what publishing a dataset to an S3-compatible store and reading it back cost,
# against a local moto server on loopback, with boto3's upload as the peer.
#
#   BIN=target/release/jobshift POSTINGS=10000000 benches/cluster/object_store.sh
#
# Steps: generate a classified-only corpus; `dataset publish` it (every file uploaded), then
# again unchanged (digests only); upload the same files with boto3 (upload_file, its default
# multipart settings) as the peer; `report` from the bucket and from the directory, with the
# CSVs compared byte for byte. Needs python3 with moto[server] and boto3.
set -euo pipefail
BIN=${BIN:-target/release/jobshift}
POSTINGS=${POSTINGS:-10000000}
WORK=${WORK:-$(mktemp -d)}
cd "$(dirname "$0")/../.."
# shellcheck source=lib.sh
source benches/cluster/lib.sh

PORT=$(free_port)
python3 -m moto.server -H 127.0.0.1 -p "$PORT" >/dev/null 2>"$WORK/moto.log" &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.5
done
export AWS_ENDPOINT="http://127.0.0.1:$PORT" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
python3 - "$AWS_ENDPOINT" <<'EOF'
import boto3, sys
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").create_bucket(Bucket="bench")
EOF

DATA="$WORK/data"
timed "generate --classified-only --postings $POSTINGS" \
  "$BIN" generate --classified-only --postings "$POSTINGS" --out "$DATA"
echo "dataset: $(du -sb "$DATA" | cut -f1) bytes in $(find "$DATA" -type f ! -name '.*' | wc -l) files"

SHOW_FIRST_LINE=1 timed "dataset publish (every file)" \
  "$BIN" dataset publish "$DATA" s3://bench/data
SHOW_FIRST_LINE=1 timed "dataset publish (unchanged: digests only)" \
  "$BIN" dataset publish "$DATA" s3://bench/data

timed "peer: boto3 upload_file of the same files" python3 - "$AWS_ENDPOINT" "$DATA" <<'EOF'
import boto3, os, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
root = sys.argv[2]
for d, _, files in os.walk(root):
    for f in files:
        if f.startswith("."):
            continue
        p = os.path.join(d, f)
        s3.upload_file(p, "bench", "peer/" + os.path.relpath(p, root))
EOF

timed "report from the directory" "$BIN" report "$DATA" --out "$WORK/r-local"
timed "report from the bucket" "$BIN" report s3://bench/data --out "$WORK/r-s3"
same=0
for f in "$WORK"/r-local/*.csv; do
  cmp -s "$f" "$WORK/r-s3/$(basename "$f")" || { echo "DIFFERS: $(basename "$f")"; exit 1; }
  same=$((same + 1))
done
echo "report CSVs byte-identical: $same"
