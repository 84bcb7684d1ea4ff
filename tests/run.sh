#!/bin/sh
# Runs every test binary in BUILD/tests and every tests/test_*.sh script, and adds up
# their "N passed, N failed" lines.
build=${1:-build}
passed=0; failed=0; broken=""
for t in "$build"/tests/test_* tests/test_*.sh; do
    [ -x "$t" ] || continue
    case "$t" in *.c) continue ;; esac
    out=$(RLCHAT_BUILD="$build" "$t" 2>&1); rc=$?
    echo "$out" | grep -v '^ok  ' | sed '$d'
    echo "$(basename "$t"): $(echo "$out" | tail -n 1)"
    last=$(echo "$out" | tail -n 1)
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
    f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
    if [ -z "$p" ]; then
        echo "$(basename "$t"): crashed or printed no summary (exit $rc)"
        failed=$((failed + 1)); broken="$broken $(basename "$t")"; continue
    fi
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && { f=1; broken="$broken $(basename "$t")"; }
    passed=$((passed + p)); failed=$((failed + f))
done
[ -n "$broken" ] && echo "broken:$broken"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
