#!/bin/sh
# Reply quality of a model: one reply to each prompt of a prompt file for each seed
# (`rlchat sample`, a fresh conversation each), and
#   ended_within_60_tokens  share of replies the model ends itself within 60 tokens
#   mean_words              words a reply (a word: lexicon.h)
#   distinct2               distinct word bigrams over all bigrams of all replies
#   verbatim_repeats        replies that contain the whole message
#   known_share             reply words the word list holds (the corpus uses them 3+ times)
#   known_or_said_share     ... that the word list or the message holds
#   reply_ms_p50, _p95      time to read the message and sample the reply
# one "name value unit" a line, then some exchanges as comments.
#   tools/reply_quality.sh [--model FILE] [--prompts FILE] [--part tune|held-out|all]
#                          [--words FILE] [sample options...]
# The prompt file holds one message a line; lines after "# held-out" are the held-out
# part, those before it the tuning part; other '#' lines are comments. Extra arguments
# go to `rlchat sample` (e.g. --temp 0.7) to compare settings. SEEDS (default "1 2 3 4 5")
# and RLCHAT (default ./rlchat) come from the environment.
export LC_ALL=C # bytes, as rlchat counts them
RLCHAT=${RLCHAT:-./rlchat}
SEEDS=${SEEDS:-1 2 3 4 5}
prompts=tools/prompts_quality.txt
part=all
words=""
while [ $# -gt 0 ]; do
    case "$1" in
    --prompts) prompts=$2; shift 2 ;;
    --part) part=$2; shift 2 ;;
    --words) words=$2; shift 2 ;;
    *) break ;;
    esac
done
case "$part" in tune|held-out|all) ;; *) echo "reply_quality: --part wants tune, held-out or all" >&2; exit 2 ;; esac
[ -r "$prompts" ] || { echo "reply_quality: cannot read $prompts" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out" "$out.p" "$out.s"' EXIT
awk -v part="$part" '
/^# held-out/ { held = 1; next }
/^#/ || /^[ \t]*$/ { next }
part == "all" || (part == "tune" && !held) || (part == "held-out" && held)
' "$prompts" >"$out.p"
[ -s "$out.p" ] || { echo "reply_quality: no prompts in the $part part of $prompts" >&2; exit 1; }
while IFS= read -r prompt; do
    for seed in $SEEDS; do
        printf '%s\t' "$prompt" >>"$out"
        "$RLCHAT" sample --prompt "$prompt" --seed "$seed" --max-tokens 60 --tsv "$@" >>"$out" || exit 1
    done
done <"$out.p"
# Columns of $out: prompt, ended, tokens, ms, reply. Word counts: words, known, known or said.
cut -f 1,5 "$out" | "$RLCHAT" words --score ${words:+--list "$words"} >"$out.s" || exit 1
cut -f 4 "$out" | sort -n | awk '
{ ms[NR] = $1 }
END {
    i50 = int(0.50 * NR + 0.999999); i95 = int(0.95 * NR + 0.999999)
    printf "reply_ms_p50 %.1f ms\nreply_ms_p95 %.1f ms\n", ms[i50 < 1 ? 1 : i50], ms[i95 < 1 ? 1 : i95]
}' >"$out.p"
paste "$out" "$out.s" | awk -F '\t' -v seeds="$(echo $SEEDS | wc -w)" '
{
    n++; ended += $2; words = split(tolower($5), w, /[^a-z\047\200-\377]+/)
    real = 0
    for (i = 1; i <= words; i++) {
        gsub(/^\047+|\047+$/, "", w[i])
        if (w[i] != "") ww[++real] = w[i]
    }
    for (i = 2; i <= real; i++) { bigrams++; if (!((ww[i-1] " " ww[i]) in seen)) { seen[ww[i-1] " " ww[i]] = 1; unique++ } }
    total_words += $6; known += $7; known_or_said += $8
    if (index(tolower($5), tolower($1)) > 0) repeats++
}
END {
    printf "replies %d count\n", n
    printf "ended_within_60_tokens %.3f ratio\n", ended / n
    printf "mean_words %.1f words\n", total_words / n
    printf "distinct2 %.3f ratio\n", bigrams ? unique / bigrams : 0
    printf "verbatim_repeats %d count\n", repeats
    printf "known_share %.4f ratio\n", total_words ? known / total_words : 1
    printf "known_or_said_share %.4f ratio\n", total_words ? known_or_said / total_words : 1
}' || exit 1
cat "$out.p"
echo "# sample exchanges (the first seed of the first ten prompts)"
paste "$out" "$out.s" | awk -F '\t' -v seeds="$(echo $SEEDS | wc -w)" 'NR % seeds == 1 % seeds && shown++ < 10 { print "> " $1 "\n  " $5 }'
