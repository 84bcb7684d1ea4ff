#!/bin/sh
# test_safety_eval: the filter meets its targets on our own set of disguised offensive lines
# and innocent look-alikes (tests/safety_eval, both halves): at least 98% of the offensive
# lines blocked, at most 1% of the innocent ones; and the classifier's trainer never reads
# the set. Needs nothing outside the repository. About a second.
cd "$(dirname "$0")/.." || exit 1
BIN=${RLCHAT_BUILD:-build}/rlchat

. tests/check.sh

# blocked FILE OP PCT: is the share of FILE's lines the filter blocks OP (>= or <=) PCT%?
blocked() {
    grep -v '^#' "$1" | cut -f2- | "$BIN" filter |
        awk -F'\t' -v op="$2" -v pct="$3" '{n++; b += $1 == "blocked"}
            END {r = 100 * b / n; if (op == ">=" ? r < pct : r > pct) {printf "%.1f%% of %s blocked\n", r, FILENAME; exit 1}}'
}

for half in tune held; do
    eval "test_${half}_disguised_lines_are_blocked() { blocked tests/safety_eval/$half/unsafe.txt '>=' 98; }"
    check "test_${half}_disguised_lines_are_blocked" "test_${half}_disguised_lines_are_blocked"
    eval "test_${half}_innocent_lines_pass() { blocked tests/safety_eval/$half/innocent.txt '<=' 1; }"
    check "test_${half}_innocent_lines_pass" "test_${half}_innocent_lines_pass"
done

test_the_classifier_never_trains_on_the_set() {
    ! grep -q 'safety_eval' app/cli/safety_train.c rl/toxicity.c
}
check test_the_classifier_never_trains_on_the_set test_the_classifier_never_trains_on_the_set

finish
