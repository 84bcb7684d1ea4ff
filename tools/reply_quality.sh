#!/bin/sh
# Reply quality of a model: replies to each prompt of a prompt file, one a seed
# (`rlchat sample --count`, a fresh conversation each), and
#   ended_within_60_tokens  share of replies the model ends itself within 60 tokens
#   mean_words              words a reply (a word: lexicon.h)
#   distinct2               distinct word bigrams over all bigrams of all replies
#   verbatim_repeats        replies that contain the whole message
#   known_share             reply words the word list holds (the corpus uses them 3+ times)
#   known_or_said_share     ... that the word list or the message holds
#   model_logprob           the model's own mean log-probability a reply token (untempered,
#                           TOK_EOT included), averaged over replies: how fluent the model
#                           finds what was sampled
#   reply_ms_p50, _p95      time to read the message and sample the reply
#   steps_mean, _p95        model steps a reply took (taken-back tokens included): its
#                           cost, unlike the time, the same on a busy machine
# one "name value unit" a line, then some exchanges as comments.
#   tools/reply_quality.sh [--model FILE] [--prompts FILE] [--part tune|held-out|all]
#                          [--words FILE] [sample options...]
# The prompt file holds one message a line; lines after "# held-out" are the held-out
# part, those before it the tuning part; other '#' lines are comments. Extra arguments
# go to `rlchat sample` (e.g. --temp 0.7) to compare settings. From the environment: SEEDS,
# replies a prompt (5), FIRST_SEED, the seed of the first (1; the others follow it), and
# RLCHAT (./rlchat).
export LC_ALL=C # bytes, as rlchat counts them
RLCHAT=${RLCHAT:-./rlchat}
SEEDS=${SEEDS:-5}
FIRST_SEED=${FIRST_SEED:-1}
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
trap 'rm -f "$out" "$out.p" "$out.s" "$out.r"' EXIT
awk -v part="$part" '
/^# held-out/ { held = 1; next }
/^#/ || /^[ \t]*$/ { next }
part == "all" || (part == "tune" && !held) || (part == "held-out" && held)
' "$prompts" >"$out.p"
[ -s "$out.p" ] || { echo "reply_quality: no prompts in the $part part of $prompts" >&2; exit 1; }
while IFS= read -r prompt; do
    "$RLCHAT" sample --prompt "$prompt" --seed "$FIRST_SEED" --count "$SEEDS" --max-tokens 60 --tsv "$@" >"$out.r" ||
        exit 1
    PROMPT=$prompt awk '{ print ENVIRON["PROMPT"] "\t" $0 }' "$out.r" >>"$out"
done <"$out.p"
# Columns of $out: prompt, ended, tokens, ms, steps, logprob, reply. Word counts: words,
# known, known or said.
cut -f 1,7 "$out" | "$RLCHAT" words --score ${words:+--list "$words"} >"$out.s" || exit 1
cut -f 4 "$out" | sort -n | awk '
{ ms[NR] = $1 }
END {
    i50 = int(0.50 * NR + 0.999999); i95 = int(0.95 * NR + 0.999999)
    printf "reply_ms_p50 %.1f ms\nreply_ms_p95 %.1f ms\n", ms[i50 < 1 ? 1 : i50], ms[i95 < 1 ? 1 : i95]
}' >"$out.p"
cut -f 5 "$out" | sort -n | awk '
{ st[NR] = $1; sum += $1 }
END { i95 = int(0.95 * NR + 0.999999); printf "steps_mean %.1f steps\nsteps_p95 %d steps\n", sum / NR, st[i95 < 1 ? 1 : i95] }
' >>"$out.p"
paste "$out" "$out.s" | awk -F '\t' -v seeds="$SEEDS" '
{
    n++; ended += $2; words = split(tolower($7), w, /[^a-z\047\200-\377]+/)
    real = 0
    for (i = 1; i <= words; i++) {
        gsub(/^\047+|\047+$/, "", w[i])
        if (w[i] != "") ww[++real] = w[i]
    }
    for (i = 2; i <= real; i++) { bigrams++; if (!((ww[i-1] " " ww[i]) in seen)) { seen[ww[i-1] " " ww[i]] = 1; unique++ } }
    total_words += $8; known += $9; known_or_said += $10; logprob += $6
    if (index(tolower($7), tolower($1)) > 0) repeats++
}
END {
    printf "replies %d count\n", n
    printf "ended_within_60_tokens %.3f ratio\n", ended / n
    printf "mean_words %.1f words\n", total_words / n
    printf "distinct2 %.3f ratio\n", bigrams ? unique / bigrams : 0
    printf "verbatim_repeats %d count\n", repeats
    printf "known_share %.4f ratio\n", total_words ? known / total_words : 1
    printf "known_or_said_share %.4f ratio\n", total_words ? known_or_said / total_words : 1
    printf "model_logprob %.3f nats/token\n", logprob / n
}' || exit 1
cat "$out.p"
echo "# sample exchanges (the first seed of the first ten prompts)"
paste "$out" "$out.s" | awk -F '\t' -v seeds="$SEEDS" 'NR % seeds == 1 % seeds && shown++ < 10 { print "> " $1 "\n  " $7 }'
