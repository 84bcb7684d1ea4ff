/* main: `rlchat [COMMAND] [OPTIONS]`. Without a command it opens the chat; otherwise it
   dispatches to the subcommand's cli_* function (app/cli/cli.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/cli/cli.h"
#include "model/parallel.h"

#define RLCHAT_VERSION "0.1.0"

typedef struct {
    const char *name;             /* as typed after rlchat */
    int (*run)(int, char **);     /* its entry point */
    const char *summary;          /* one line for --help */
} Command;

static const Command commands[] = {
    {"chat", cli_chat, "talk to the model and rate its replies (the default)"},
    {"train", cli_train, "pretrain a model from a dialogue corpus"},
    {"tokenize", cli_tokenize, "encode a corpus once into a token file for train --tokens"},
    {"eval", cli_eval, "loss, perplexity and bits per byte of a model on a corpus"},
    {"sample", cli_sample, "one reply to a prompt"},
    {"words", cli_words, "the word list replies are checked against, and scoring with it"},
    {"simulate", cli_simulate, "a scripted user rates replies: proof that the learner learns"},
    {"filter", cli_filter, "run the safety filter over lines of text"},
    {"safety-train", cli_safety_train, "train the safety classifier (assets/toxicity.bin)"},
    {NULL, NULL, NULL}};

static void usage(FILE *out) {
    fprintf(out, "usage: rlchat [COMMAND] [OPTIONS]   (rlchat COMMAND --help for its options)\n\ncommands:\n");
    for (const Command *c = commands; c->name; c++) fprintf(out, "  %-13s %s\n", c->name, c->summary);
    fprintf(out, "\nWithout a command, rlchat opens the chat (see rlchat chat --help and man rlchat).\n");
}

int main(int argc, char **argv) {
    /* A file-size limit (ulimit -f) reached during a save then fails the write (EFBIG),
       which the save reports, keeping the previous file, instead of killing the program. */
    signal(SIGXFSZ, SIG_IGN);
    parallel_cores(); /* on one core, OpenBLAS is held to one thread before its first call */
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("rlchat %s\n", RLCHAT_VERSION);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') return cli_chat(argc, argv); /* options of the chat */
    for (const Command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "rlchat: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
