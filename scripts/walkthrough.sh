#!/usr/bin/env bash
# The README walk-through as one script: run `npm run dev` in another terminal first.
set -euo pipefail
BASE=${BASE:-http://localhost:8787}
INTERNAL=${INTERNAL:-dev-internal-token}
ACCOUNT=${ACCOUNT:-acct_demo}
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(process.argv[1].split(".").reduce((o,k)=>o?.[k],v)??"")})' "$1"; }

KEY=$(curl -sf -X POST "$BASE/internal/v1/accounts/$ACCOUNT/keys" -H "Authorization: Bearer $INTERNAL" | json api_key)
curl -sf -X POST "$BASE/internal/v1/accounts/$ACCOUNT/credits" -H "Authorization: Bearer $INTERNAL" \
  -H 'Content-Type: application/json' -d "{\"amount\": 100, \"reference\": \"demo-$(date +%s)\"}"; echo
TASK=$(curl -sf -X POST "$BASE/api/v1/images/generations" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  -d '{"model":"flux-2","prompt":"A serene Japanese garden with cherry blossoms, koi pond, and wooden bridge","aspect_ratio":"16:9"}' | json task_id)
echo "task: $TASK"
until case "$(curl -sf "$BASE/api/v1/tasks/$TASK" -H "Authorization: Bearer $KEY" | json status)" in succeeded|failed|canceled) true;; *) false;; esac; do sleep 1; done
URL=$(curl -sf "$BASE/api/v1/tasks/$TASK" -H "Authorization: Bearer $KEY" | json output.images.0.url)
curl -sf -o garden.png "$URL"
file garden.png 2>/dev/null || ls -l garden.png
