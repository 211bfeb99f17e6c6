#!/usr/bin/env bash
# Compile the numba kernels that backtests and replays use, once per install, into numba's
# cache beside the sources: without this the first `ffe backtest` / `ffe replay` after an
# install or upgrade waits for them (~15 s on a small machine). Runs the real commands over
# the bundled bars in a scratch directory with the default configuration.
# Usage: scripts/warm-kernels.sh BIN_DIR
set -euo pipefail
bin="$(cd "$1" && pwd)"
data="$(cd "$(dirname "$0")/.." && pwd)/src/ffe_adapters/market_data/bundled/BTC-USD_1h.csv.gz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
for name in $(compgen -e); do [[ $name == FFE_* ]] && unset "$name"; done
export FFE_CONFIG_DIR="$work" FFE_STORAGE__URL="sqlite+aiosqlite:///$work/warm.db"
export FFE_LOGGING__LEVEL=ERROR
run() { "$bin/ffe" "$@" --json > /dev/null; }
"$bin/python" -c 'from ffe_core.indicators import compile_tiered; compile_tiered()'
run replay --data "$data"
run backtest --data "$data" --strategy sma_cross --param fast=10 --param slow=30
run backtest --data "$data" --strategy sma_bracket --param sl=0.05 --param tp=0.1 --param trail=0.03
run optimize --data "$data" --strategy sma_cross --param fast=5,10 --param slow=30,50
run walk-forward --data "$data" --strategy sma_cross --in-sample 500 --out-of-sample 250 \
    --param fast=5,10 --param slow=30,50
