#!/bin/sh
# make eval-safety: block rates of the safety filter on the shared evaluation sets: a plain
# word list (LDNOOBW as it is), our normalised list, and list + classifier (HateCheck per
# functionality, Davidson per class, ToxiGen demonstrations per folder, the chat corpus test
# split). The sets are read, never copied; without ../shared/data this says so and
# succeeds. Takes about a second.
data=${DATA:-../shared/data}
bin=${RLCHAT:-./rlchat}
if [ ! -d "$data" ]; then
    echo "skipped: $data not found"
    exit 0
fi
for d in hatecheck davidson toxigen-demos corpus ldnoobw; do
    [ -d "$data/$d" ] || { echo "skipped: $data/$d not found"; exit 0; }
done
"$bin" safety-train --eval --data "$data" ${ASSETS:+--assets "$ASSETS"} || exit 1
# The gate the issue sets: at most 1% of corpus/test.txt blocked by list + classifier.
"$bin" filter ${ASSETS:+--assets "$ASSETS"} "$data/corpus/test.txt" |
    awk -F'\t' '{n++; if ($1 == "blocked") b++}
        END {r = 100 * b / n; printf "corpus test.txt via rlchat filter: %d of %d lines blocked (%.2f%%) %s\n",
             b, n, r, r <= 1 ? "ok (<= 1%)" : "OVER the 1% budget"; exit r > 1}'
