#!/usr/bin/env bash
# Set up earlywarn on a fresh machine: system fonts for PDF reports, then the locked environment.
set -euo pipefail
cd "$(dirname "$0")/.."

# WeasyPrint needs Pango and HarfBuzz-Subset (fonts are subset into PDFs), and a CJK font.
if ! fc-list 2>/dev/null | grep -qi "noto sans cjk\|wenquanyi" \
  || ! ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so.0"; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "earlywarn setup: installing a CJK font and Pango for PDF reports" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei libpango-1.0-0 \
      libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig >/dev/null
  else
    echo "earlywarn setup: no CJK font found; install fonts-wqy-microhei and libharfbuzz-subset0 for PDF reports" >&2
  fi
fi

# The browser test of the county's working list (tests/unit/explain/test_list_browser.py)
# drives headless Chromium; without it that test is skipped, saying so.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "earlywarn setup: installing Chromium for the browser test of the working lists" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "earlywarn setup: no Chromium found; install chromium to run the working lists' browser test" >&2
  fi
fi

if ! command -v uv >/dev/null; then
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --extra dev --python python3.11
echo "earlywarn setup: environment ready in .venv" >&2
