#!/usr/bin/env bash
# Prints the shipped size of the web bundles (raw, gzip -9, brotli -q 11).
# The consent widget's ceiling (consent-bar.md) is 180,000 bytes brotli for
# wasm + js + css a customer downloads. --check fails when the widget is
# over it (or over SIZE_BUDGET_BYTES), so growth never goes unnoticed.
# Run scripts/build-web.sh first.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
BUDGET_BYTES="${SIZE_BUDGET_BYTES:-180000}"
check=false
[[ "${1:-}" == "--check" ]] && check=true

report() { # report NAME DIR -> prints a table, echoes nothing; sets TOTAL_BR
  local name="$1" dir="$2" raw gz br f kind
  local traw=0 tgz=0 tbr=0
  printf '\n%s (%s)\n' "$name" "${dir#"$ROOT"/}"
  printf '  %-44s %10s %10s %10s\n' file raw gzip brotli
  while IFS= read -r f; do
    raw=$(stat -c %s "$f")
    gz=$(gzip -9 -c "$f" | wc -c)
    br=$(brotli -q 11 -c "$f" | wc -c)
    traw=$((traw + raw)); tgz=$((tgz + gz)); tbr=$((tbr + br))
    printf '  %-44s %10d %10d %10d\n' "${f#"$dir"/}" "$raw" "$gz" "$br"
  # The sample portal (portal.*) ships with the demo, not with the widget.
  done < <(find "$dir" -maxdepth 1 -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) \
    -not -name 'portal.*' | sort)
  printf '  %-44s %10d %10d %10d\n' "TOTAL" "$traw" "$tgz" "$tbr"
  TOTAL_BR=$tbr
}

if [[ ! -d dist ]]; then
  echo "size: dist/ is missing; run scripts/build-web.sh" >&2
  exit 1
fi
report "consent widget" "$ROOT/dist"
widget_br=$TOTAL_BR
if [[ -d dist/sharing ]]; then
  report "your data sharing (/consent/sharing: a page of its own, not part of the consent flow)" "$ROOT/dist/sharing"
fi
if [[ -d crates/scope-playground/dist ]]; then
  report "scope playground (separate bundle, not part of the widget)" "$ROOT/crates/scope-playground/dist"
fi
printf '\nconsent widget shipped: %d bytes brotli (%.1f KB) of a %d-byte budget (%d bytes to spare)\n' \
  "$widget_br" "$(echo "$widget_br / 1000" | bc -l)" "$BUDGET_BYTES" $((BUDGET_BYTES - widget_br))
if ((widget_br > BUDGET_BYTES)); then
  printf 'consent widget: OVER the budget by %d bytes\n' $((widget_br - BUDGET_BYTES))
  if $check; then
    echo "size: the consent widget is over its budget of $BUDGET_BYTES bytes brotli" >&2
    exit 1
  fi
fi
