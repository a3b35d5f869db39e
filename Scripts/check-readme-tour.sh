#!/usr/bin/env bash
# Runs the README's tour block exactly as written, so the README stays true. Fails on the first error.
set -euo pipefail
cd "$(dirname "$0")/.."
block=$(awk '/^## Tour/{tour=1} tour && /^```sh$/{inside=1; next} inside && /^```$/{exit} inside{print}' README.md)
[ -n "$block" ] || { echo "check-readme-tour: no tour block found" >&2; exit 1; }
echo "$block" > /tmp/reflections-tour.sh
trap 'kill %1 2>/dev/null || true; pkill -f "reflectd serve --data /tmp/tmp" 2>/dev/null || true' EXIT
bash -euo pipefail -c "set -m; $(cat /tmp/reflections-tour.sh)"
echo "check-readme-tour: the tour ran to the end"
