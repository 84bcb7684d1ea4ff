/* eval: `rlchat eval`, the model's loss, perplexity and bits per byte on a corpus,
   and `rlchat sample`, one reply to a prompt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/assets.h"
#include "app/cli/cli.h"
#include "app/conversation.h"
#include "app/options.h"
#include "model/checkpoint.h"
#include "model/corpus.h"
#include "model/distributed.h"
#include "model/generate.h"
#include "model/trainer.h"

int cli_eval(int argc, char **argv) {
    const char *model_path = NULL, *corpus = NULL;
    int seq = 64;
    const Option opts[] = {
        {"--model", OPT_STRING, &model_path, "model file (required)"},
        {"--corpus", OPT_STRING, &corpus, "corpus file in rlchat's format (required)"},
        {"--seq", OPT_INT, &seq, "evaluation chunk length, 1..4096 (64)"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat eval --model FILE --corpus FILE [--seq N]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (!model_path || !corpus) {
        fprintf(stderr, "rlchat: eval needs --model and --corpus\nusage: %s\n", usage);
        return 2;
    }
    if (seq < 1 || seq > 4096) { /* its activations are kept for the whole chunk */
        fprintf(stderr, "rlchat: --seq wants 1..4096, not %d\n", seq);
        return 2;
    }
    Model m;
    Tokenizer tok;
    dist_init(); /* under mpirun the ranks share the evaluation's streams */
    if (model_load(model_path, &m, &tok) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        dist_abort(1); /* the other ranks would wait in the evaluation's collectives */
    }
    rc = eval_report(&m, &tok, corpus, seq) == 0 ? 0 : 1;
    tokenizer_free(&tok);
    model_free(&m);
    dist_finalize();
    return rc;
}

int cli_sample(int argc, char **argv) {
    const char *model_path = NULL, *prompt = "hi there", *words_path = NULL;
    SamplerConfig sc = chat_sampler_defaults();
    int seed = 0, max_tokens = CHAT_MAX_TOKENS, tsv = 0, count = 1;
    const Option opts[] = {
        {"--model", OPT_STRING, &model_path, "model file (default: the shipped model)"},
        {"--prompt", OPT_STRING, &prompt, "the user's message (\"hi there\")"},
        {"--temp", OPT_FLOAT, &sc.temperature, "temperature; 0 = most likely token"},
        {"--top-p", OPT_FLOAT, &sc.top_p, "nucleus mass"},
        {"--top-k", OPT_INT, &sc.top_k, "keep the k most likely tokens (0 = all)"},
        {"--repeat-penalty", OPT_FLOAT, &sc.repetition_penalty, "penalty for recent tokens"},
        {"--min-p", OPT_FLOAT, &sc.min_p, "keep tokens at least this share of the likeliest's probability (0 = off)"},
        {"--word-temp", OPT_FLOAT, &sc.word_temperature, "temperature inside a word (0 = --temp)"},
        {"--known-words", OPT_INT, &sc.known_words, "1: take back words the word list and the prompt do not hold; 0: off"},
        {"--words", OPT_STRING, &words_path, "word list (default: words.txt in the assets folder, when there)"},
        {"--min-tokens", OPT_INT, &sc.min_tokens, "no end of turn before this many tokens"},
        {"--max-tokens", OPT_INT, &max_tokens, "longest reply"},
        {"--seed", OPT_INT, &seed, "random seed (0)"},
        {"--count", OPT_INT, &count, "replies, each in a new conversation, with seeds --seed, --seed + 1, ... (1)"},
        {"--tsv", OPT_FLAG, &tsv, "print 'ended<TAB>tokens<TAB>ms<TAB>steps<TAB>logprob<TAB>reply' (ended: 1 if "
                                  "the model closed the turn; ms: reading the prompt and sampling the reply; steps: "
                                  "the model's steps for the reply, taken-back tokens included; logprob: the model's "
                                  "own mean log-probability a token, TOK_EOT included)"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat sample [--model FILE] [--prompt TEXT] [--temp T --top-p P --top-k K --seed N --count N]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (count < 1 || count > 100000) {
        fprintf(stderr, "rlchat: --count wants 1..100000, not %d\nusage: %s\n", count, usage);
        return 2;
    }
    SessionConfig ranges = session_default_config(); /* held to the chat's ranges */
    ranges.sampling = sc, ranges.max_tokens = max_tokens;
    if (settings_check(&ranges) != 0) {
        fprintf(stderr, "rlchat: %s\nusage: %s\n", err_msg(), usage);
        return 2;
    }
    int default_model = !model_path;
    if (!model_path) model_path = default_model_path(NULL);
    Model m;
    Tokenizer tok;
    if (model_load(model_path, &m, &tok) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        if (default_model) assets_explain_missing(model_path);
        return 1;
    }
    Lexicon words;
    lexicon_build(&words, 1);
    char default_words[4096];
    if (!words_path) {
        snprintf(default_words, sizeof default_words, "%s/words.txt", assets_dir_default());
        if (access(default_words, F_OK) == 0) words_path = default_words;
    }
    if (words_path && lexicon_load(&words, words_path) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        lexicon_free(&words);
        tokenizer_free(&tok);
        model_free(&m);
        return 1;
    }
    Generator g;
    gen_build(&g, &m, &tok);
    if (words_path) gen_set_words(&g, &words);
    for (int k = 0; k < count; k++) {
        Reply r;
        Rng rng;
        rng_seed(&rng, (uint64_t)seed + (uint64_t)k);
        gen_reset(&g);
        double t0 = now_seconds();
        gen_feed_user(&g, prompt, strlen(prompt));
        gen_reply(&g, &sc, &rng, NULL, max_tokens, &r, NULL, NULL, NULL);
        double ms = (now_seconds() - t0) * 1e3;
        char *text = reply_text(&tok, &r);
        for (char *p = text; *p; p++) /* one reply, one line: control bytes would break both */
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
        double logprob = 0;
        for (int i = 0; i <= r.n; i++) logprob += r.policy_logprobs[i];
        if (tsv) printf("%d\t%d\t%.2f\t%d\t%.4f\t%s\n", r.ended, r.n, ms, r.steps, logprob / (r.n + 1), text);
        else printf("%s\n", text);
        free(text);
        reply_free(&r);
    }
    gen_free(&g);
    lexicon_free(&words);
    tokenizer_free(&tok);
    model_free(&m);
    return 0;
}
