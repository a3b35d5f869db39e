#!/usr/bin/env bash
# Runs the README's tour block exactly as written, so the README stays true, and checks what it printed: the
# ids, the syncs, the conflict shown and resolved, Bo's view and comment. Fails on the first error.
set -euo pipefail
cd "$(dirname "$0")/.."
block=$(awk '/^## Tour/{tour=1} tour && /^```sh$/{inside=1; next} inside && /^```$/{exit} inside{print}' README.md)
[ -n "$block" ] || { echo "check-readme-tour: no tour block found" >&2; exit 1; }
echo "$block" > /tmp/reflections-tour.sh
out=$(mktemp)
trap 'kill %1 2>/dev/null || true; pkill -f "reflectd serve --data /tmp/tmp" 2>/dev/null || true' EXIT
bash -euo pipefail -c "set -m; $(cat /tmp/reflections-tour.sh)" 2>&1 | tee "$out"

failures=0
expect() { # DESCRIPTION EXTENDED-REGEX [MIN-COUNT]
    local count
    count=$(grep -cE -- "$2" "$out" || true)
    if [ "$count" -lt "${3:-1}" ]; then
        echo "check-readme-tour: expected $1 (/$2/ at least ${3:-1} time(s), seen $count)" >&2
        failures=$((failures + 1))
    fi
}
refuse() { # DESCRIPTION EXTENDED-REGEX
    if grep -qE -- "$2" "$out"; then
        echo "check-readme-tour: did not expect $1 (/$2/)" >&2
        failures=$((failures + 1))
    fi
}
uuid='[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}'
expect "the private reflection's and the comment's ids, each alone on a line" "^$uuid\$" 2
expect "three devices set up" "^Set up .* for https://127.0.0.1:8443" 3
expect "syncs that pushed" "^Synced: pushed 1, pulled [0-9]+, merged 0, conflicts 0\\." 3
expect "the phone's sync ending with the conflict (exit code 7)" "^sync exit code 7 " 1
expect "the conflict listed" "^[0-9A-F]{8}  Allyship  — 1 conflict:" 1
expect "the conflict in plain words, naming the device" "^    (this device|your laptop) changed the same words" 1
refuse "a device id in the conflict's words" "^    .*[0-9A-F]{8}.* changed the same words"
expect "both sides of the conflict shown" "^    \\+ On the ward we (never|seldom) talk about race\\." 2
expect "the conflict resolved" "^Resolved $uuid" 1
expect "the laptop showing the phone's resolution" "^On the ward we seldom talk about race\\." 2
expect "Bo's list showing Amara's community reflection with her name" "Allyship  \\[community, by Amara O\\.\\]" 1
expect "Bo's list showing her new name after the rename" "Allyship  \\[community, by Amara Okafor\\]" 1
expect "the rename confirmed" "^Your display name is now 'Amara Okafor'" 1
expect "the reflection written in the editor, in the laptop's list" "  From the editor  \\[private, not synced\\]" 1
expect "no drafts left" "^No drafts: everything you wrote is saved\\." 1
expect "Bo's comment on the laptop" "Thank you for writing this\\." 1
expect "the server's log with the conflict and the resolve" "	update reflection $uuid	conflict	" 1
refuse "Amara's private reflection in Bo's list" "Private thoughts.*by "
[ "$failures" -eq 0 ] || exit 1
echo "check-readme-tour: the tour ran to the end and printed what the README says"
