/* chat: `rlchat [chat]`, the conversation. Plain mode for now: each input line is a user
   message and each reply is printed as one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/assets.h"
#include "app/cli.h"
#include "app/options.h"
#include "model/checkpoint.h"
#include "model/generate.h"

int cli_chat(int argc, char **argv) {
    const char *model_path = NULL;
    int seed = 0;
    const Option opts[] = {
        {"--model", OPT_STRING, &model_path, "base model file (default: the shipped model)"},
        {"--seed", OPT_INT, &seed, "random seed (0)"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat [chat] [--model FILE] [--seed N]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (!model_path) model_path = default_model_path();
    Model m;
    Tokenizer tok;
    if (model_load(model_path, &m, &tok) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        return 1;
    }
    Generator g;
    Rng rng;
    SamplerConfig sc = chat_sampler_defaults();
    rng_seed(&rng, (uint64_t)seed);
    gen_build(&g, &m, &tok);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        Reply r;
        gen_feed_user(&g, line, (size_t)n);
        gen_reply(&g, &sc, &rng, NULL, CHAT_MAX_TOKENS, &r, NULL, NULL, NULL);
        char *text = reply_text(&tok, &r);
        printf("%s\n", text);
        fflush(stdout);
        free(text);
        reply_free(&r);
    }
    free(line);
    gen_free(&g);
    tokenizer_free(&tok);
    model_free(&m);
    return 0;
}
