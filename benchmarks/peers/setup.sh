#!/usr/bin/env bash
# Build the two peers bench_scale.py compares tracectl with, outside the repo (issue 24). Nothing of theirs is
# vendored here: their code is fetched at a pinned commit and built under $PEERS_DIR.
#
#   bash benchmarks/peers/setup.sh                 # both
#   bash benchmarks/peers/setup.sh jaeger-ui       # or only one: jaeger-ui | crisp
#
# Environment (defaults in brackets):
#   PEERS_DIR      where to build [/work/peers]
#   JAEGER_UI_GIT  jaeger-ui repository, a URL or a local clone [https://github.com/jaegertracing/jaeger-ui.git]
#   CRISP_GIT      CRISP repository, a URL or a local clone [https://github.com/uber-research/CRISP.git]
#   PYTHON         interpreter for CRISP's venv, 3.11+ [python3.11]
# Needs git, node 20+ and npm (npm registry), Python 3.11+ and pip (PyPI). Prints the env var values at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEERS_DIR="${PEERS_DIR:-/work/peers}"
JAEGER_UI_GIT="${JAEGER_UI_GIT:-https://github.com/jaegertracing/jaeger-ui.git}"
JAEGER_UI_COMMIT=c321fb32bbca0bdce9e8c2d40afb35abbf54c12b # main, 2026-08-18 (package version 2.20.0)
CRISP_GIT="${CRISP_GIT:-https://github.com/uber-research/CRISP.git}"
CRISP_COMMIT=2710c0b9d52e47be91240a400ca7f85ae3a43fcf # main, 2026-07-23
PYTHON="${PYTHON:-python3.11}"
FIXTURES="$(cd "$HERE/../.." && pwd)/fixtures"

# checkout DIR URL COMMIT: DIR holds COMMIT's tree (fetched by hash, one commit deep); reused if already there.
checkout() {
  local dir=$1 url=$2 commit=$3
  if [[ -d "$dir/.git" && "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" == "$commit" ]]; then
    return
  fi
  rm -rf "$dir"
  git init -q "$dir"
  git -C "$dir" fetch -q --depth 1 "$url" "$commit"
  git -C "$dir" checkout -q FETCH_HEAD
}

jaeger_ui() {
  local dir="$PEERS_DIR/jaeger-ui-cp"
  echo "== Jaeger UI critical path → $dir"
  mkdir -p "$dir"
  checkout "$dir/jaeger-ui" "$JAEGER_UI_GIT" "$JAEGER_UI_COMMIT"
  # esbuild and the three runtime packages the imported modules use, at jaeger-ui's own versions (lockfile).
  cp "$HERE/jaeger-ui-cp/package.json" "$HERE/jaeger-ui-cp/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  # Our driver plus their unmodified modules (imported through the @jaeger-ui alias) in one node script.
  (cd "$dir" && ./node_modules/.bin/esbuild "$HERE/jaeger-ui-cp/driver.ts" --bundle --platform=node \
    --target=node20 --format=cjs --alias:@jaeger-ui=./jaeger-ui/packages/jaeger-ui/src --outfile=cp.js \
    --log-level=warning)
  node "$dir/cp.js" "$FIXTURES/ml-inference.otlp.json" 2>/dev/null
}

crisp() {
  local dir="$PEERS_DIR/crisp"
  echo "== CRISP → $dir"
  checkout "$dir" "$CRISP_GIT" "$CRISP_COMMIT"
  [[ -x "$dir/.venv/bin/python" ]] || "$PYTHON" -m venv "$dir/.venv"
  # CRISP's README: install its lockfile, then the package itself (crisp-trace), without re-resolving.
  "$dir/.venv/bin/python" -m pip install -q -r "$dir/requirements_lock.txt"
  "$dir/.venv/bin/python" -m pip install -q --no-deps -e "$dir"
  cp "$HERE/crisp_light.py" "$PEERS_DIR/crisp_light.py"
  mkdir -p "$PEERS_DIR/crisp-out"
  local smoke
  smoke="$(mktemp -d)"
  cp "$FIXTURES/ml-inference.jaeger.json" "$smoke/"
  "$dir/.venv/bin/python" "$PEERS_DIR/crisp_light.py" --lightMode -s api-gateway -a "POST /v1/predict" \
    -o "$PEERS_DIR/crisp-out" -i "$smoke" 2>/dev/null
  rm -rf "$smoke"
  echo "CRISP light mode: $(wc -l <"$PEERS_DIR/crisp-out/light-flame-graph-P100.cct") call paths on the fixture"
}

case "${1:-all}" in
  jaeger-ui) jaeger_ui ;;
  crisp) crisp ;;
  all) jaeger_ui; crisp ;;
  *) echo "usage: $0 [jaeger-ui|crisp|all]" >&2; exit 2 ;;
esac

cat <<EOF

export TRACECTL_BENCH_NODE_CP='node $PEERS_DIR/jaeger-ui-cp/cp.js'
export TRACECTL_BENCH_CRISP='$PEERS_DIR/crisp/.venv/bin/python $PEERS_DIR/crisp_light.py --lightMode --parallelism $(nproc) -s api-gateway -a "POST /v1/predict" -o $PEERS_DIR/crisp-out -i'
EOF
