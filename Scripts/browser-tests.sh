#!/usr/bin/env bash
# The member's page in headless Chromium (Scripts/browser-tests.py). Needs Debian's chromium and chromium-driver
# (.ci/run installs them) and Selenium from PyPI (installed here if missing); builds the debug reflect and reflectd.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import selenium' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "selenium>=4.20,<5"
swift build --product reflect >/dev/null
swift build --product reflectd >/dev/null
exec python3 Scripts/browser-tests.py
