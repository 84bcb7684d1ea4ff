/* cli: the subcommands of the rlchat binary. Each takes the arguments after its name
   (argv[0] is the subcommand) and returns the process exit status: 0 ok, 1 failure,
   2 usage error. */
#ifndef RLCHAT_CLI_H
#define RLCHAT_CLI_H

#include "model/lstm.h"
#include "model/tokenizer.h"

int cli_train(int argc, char **argv);    /* app/cli_train.c */
int cli_tokenize(int argc, char **argv); /* app/cli_tokenize.c */
int cli_eval(int argc, char **argv);     /* app/cli_eval.c */
int cli_sample(int argc, char **argv);   /* app/cli_eval.c */
int cli_words(int argc, char **argv);    /* app/cli_words.c */
int cli_filter(int argc, char **argv);   /* app/cli_filter.c */
int cli_safety_train(int argc, char **argv); /* app/cli_safety_train.c */
int cli_chat(int argc, char **argv);     /* app/chat.c: the default command */
int cli_simulate(int argc, char **argv); /* app/cli_simulate.c */

/* Prints loss, perplexity and bits per byte of the model on a corpus file (cli_eval.c). */
int eval_report(const Model *m, const Tokenizer *tok, const char *path, int seq);
/* The encoded corpus file on every rank (cli_eval.c): rank 0 reads and encodes it and
   broadcasts the ids; alone, just the encoding. Collective. NULL everywhere when rank 0
   could not read it (err_msg() says why there); *bytes (may be NULL) gets its length. */
int32_t *corpus_encode_shared(const Tokenizer *tok, const char *path, size_t *n, size_t *bytes);

#endif
