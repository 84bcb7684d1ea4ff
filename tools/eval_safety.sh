#!/bin/sh
# make eval-safety: block rates of the safety filter. First on our own set of disguised
# offensive lines and innocent look-alikes (tests/safety_eval, in the repository: the
# tuning half and the held-out half, by the kind of disguise where lines got through).
# Then on the shared evaluation sets: a plain word list (LDNOOBW as it is), our normalised
# list, and list + classifier (HateCheck per functionality, Davidson per class, ToxiGen
# demonstrations per folder, the chat corpus test split). The shared sets are read, never
# copied; without ../shared/data those rows are skipped. Exits 1 when a target is missed.
# Takes a few seconds.
data=${DATA:-../shared/data}
bin=${RLCHAT:-./rlchat}
set=${SAFETY_EVAL:-tests/safety_eval}
status=0

# rate FILE LABEL WANT: filters FILE's lines (KIND<TAB>LINE, '#' comments) and prints the
# share blocked; WANT is "block" (at least 98% blocked) or "pass" (at most 1% blocked).
rate() {
    grep -v '^#' "$1" | cut -f1 >/tmp/rlchat_eval_kinds.$$
    grep -v '^#' "$1" | cut -f2- | "$bin" filter ${ASSETS:+--assets "$ASSETS"} |
        paste /tmp/rlchat_eval_kinds.$$ - |
        awk -F'\t' -v label="$2" -v want="$3" '
            {n++; b = $2 == "blocked"; nb += b; k = $1
             if ((want == "block") != b) {miss[k]++; if (!(k in seen)) {seen[k] = 1; order[++nk] = k}}}
            END {r = 100 * nb / n
                 if (want == "block") {ok = r >= 98; verdict = ok ? "ok (>= 98%)" : "BELOW the 98% target"}
                 else {ok = r <= 1; verdict = ok ? "ok (<= 1%)" : "OVER the 1% budget"}
                 printf "  %-44s %4d of %4d blocked (%5.1f%%) %s\n", label, nb, n, r, verdict
                 if (nk) {
                     printf "    %s by kind:", want == "block" ? "passed" : "blocked"
                     for (i = 1; i <= nk; i++) printf " %s %d", order[i], miss[order[i]]
                     printf "\n"
                 }
                 exit !ok}' || status=1
    rm -f /tmp/rlchat_eval_kinds.$$
}

echo "our set of disguised and look-alike lines ($set; list + classifier)"
for half in tune held; do
    name=$([ $half = tune ] && echo "tuning half" || echo "held-out half")
    rate "$set/$half/unsafe.txt" "disguised offensive, $name" block
    rate "$set/$half/innocent.txt" "innocent look-alikes, $name" pass
done

if [ ! -d "$data" ]; then
    echo "skipped the shared sets: $data not found"
    exit $status
fi
for d in hatecheck davidson toxigen-demos corpus ldnoobw; do
    [ -d "$data/$d" ] || { echo "skipped the shared sets: $data/$d not found"; exit $status; }
done
"$bin" safety-train --eval --data "$data" ${ASSETS:+--assets "$ASSETS"} || exit 1
# At most 0.1% of corpus/test.txt blocked by list + classifier: ordinary chat passes.
"$bin" filter ${ASSETS:+--assets "$ASSETS"} "$data/corpus/test.txt" |
    awk -F'\t' '{n++; if ($1 == "blocked") b++}
        END {r = 100 * b / n; printf "corpus test.txt via rlchat filter: %d of %d lines blocked (%.2f%%) %s\n",
             b, n, r, r <= 0.1 ? "ok (<= 0.1%)" : "OVER the 0.1% budget"; exit r > 0.1}' || status=1
exit $status
