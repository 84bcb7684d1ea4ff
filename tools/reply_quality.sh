#!/bin/sh
# Reply quality of a model on the 20 prompts of the default-model issue, 5 seeds each:
# the share of replies the model ends itself within 60 tokens, the mean length in words,
# distinct-2 over all replies, and replies that repeat the user's message. Extra
# arguments go to `rlchat sample` (e.g. --temp 0.7 --top-p 0.9) to compare settings.
#   tools/reply_quality.sh [--model FILE] [sample options...]
RLCHAT=${RLCHAT:-./rlchat}
SEEDS=${SEEDS:-1 2 3 4 5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
while IFS= read -r prompt; do
    for seed in $SEEDS; do
        printf '%s\t' "$prompt" >>"$out"
        "$RLCHAT" sample --prompt "$prompt" --seed "$seed" --max-tokens 60 --tsv "$@" >>"$out" || exit 1
    done
done <<'PROMPTS'
hi there
how are you today?
what's your favourite movie?
do you like music?
i just got back from a basketball game
can you recommend a book?
what do you think about star wars?
i'm feeling a bit sad
tell me about yourself
who is your favourite singer?
have you seen the new harry potter film?
what should i cook for dinner?
i love rock music
do you play any sports?
what did you do this weekend?
good morning!
thanks for the chat
what's the best superhero movie?
i don't like horror films
bye!
PROMPTS
awk -F '\t' '
function lower(s) { return tolower(s) }
{
    n++; ended += $2; words = split($4, w, /[^A-Za-z0-9\047]+/)
    real = 0
    for (i = 1; i <= words; i++) if (w[i] != "") { real++; ww[real] = lower(w[i]) }
    total_words += real
    for (i = 2; i <= real; i++) { bigrams++; if (!((ww[i-1] " " ww[i]) in seen)) { seen[ww[i-1] " " ww[i]] = 1; unique++ } }
    p = lower($1); r = lower($4)
    if (index(r, p) > 0) repeats++
    if (n % 5 == 1 && shown < 10 && n > 0) { sample[shown++] = "> " $1 "\n  " $4 }
}
END {
    printf "replies %d count\n", n
    printf "ended_within_60_tokens %.3f ratio\n", ended / n
    printf "mean_words %.1f words\n", total_words / n
    printf "distinct2 %.3f ratio\n", bigrams ? unique / bigrams : 0
    printf "verbatim_repeats %d count\n", repeats
    print "# sample exchanges (seed 1 of the first ten prompts)"
    for (i = 0; i < shown; i++) print sample[i]
}' "$out"
