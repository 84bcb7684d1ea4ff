#!/bin/sh
# test_safety_train: `rlchat safety-train` rebuilds the shipped classifier, assets/toxicity.bin,
# byte for byte from ../shared/data (weights and the cross-validated threshold), so the
# shipped file is what our code makes of the data; and `--eval` prints the table
# `make eval-safety` shows. Needs ../shared/data; without it, says so and skips (a user's
# clone). About 5 seconds.
cd "$(dirname "$0")/.." || exit 1
BIN=${RLCHAT_BUILD:-build}/rlchat
DATA=${DATA:-../shared/data}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rlchat-safety-train.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

. tests/check.sh

if [ ! -d "$DATA/hatecheck" ] || [ ! -d "$DATA/davidson" ] || [ ! -d "$DATA/corpus" ]; then
    echo "skipping: $DATA (hatecheck, davidson, corpus) not found"
    finish
fi

test_training_reproduces_the_shipped_classifier() {
    cp assets/blocklist.txt assets/allowlist.txt "$TMP/" &&
        "$BIN" safety-train --data "$DATA" --assets "$TMP" --out "$TMP/toxicity.bin" 2>"$TMP/log" &&
        cmp -s "$TMP/toxicity.bin" assets/toxicity.bin || { cat "$TMP/log"; return 1; }
}
check test_training_reproduces_the_shipped_classifier test_training_reproduces_the_shipped_classifier

test_the_threshold_is_the_cross_validated_one() {
    grep -q "inoffensive labelled lines out of fold" "$TMP/log"
}
check test_the_threshold_is_the_cross_validated_one test_the_threshold_is_the_cross_validated_one

test_eval_prints_every_set() {
    "$BIN" safety-train --eval --data "$DATA" >"$TMP/table" &&
        for set in "hatecheck" "davidson" "toxigen-demos" "corpus test.txt" "non-hateful blocked, by what matched"; do
            grep -q "$set" "$TMP/table" || { echo "no '$set' in the table"; return 1; }
        done
}
check test_eval_prints_every_set test_eval_prints_every_set

finish
