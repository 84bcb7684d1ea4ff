/* cli: the subcommands of the rlchat binary. Each takes the arguments after its name
   (argv[0] is the subcommand) and returns the process exit status: 0 ok, 1 failure,
   2 usage error. */
#ifndef RLCHAT_CLI_H
#define RLCHAT_CLI_H

int cli_train(int argc, char **argv);    /* app/cli/train.c */
int cli_tokenize(int argc, char **argv); /* app/cli/tokenize.c */
int cli_eval(int argc, char **argv);     /* app/cli/eval.c */
int cli_sample(int argc, char **argv);   /* app/cli/eval.c */
int cli_words(int argc, char **argv);    /* app/cli/words.c */
int cli_filter(int argc, char **argv);   /* app/cli/filter.c */
int cli_safety_train(int argc, char **argv); /* app/cli/safety_train.c */
int cli_chat(int argc, char **argv);     /* app/chat.c: the default command */
int cli_simulate(int argc, char **argv); /* app/sim/simulate.c */

#endif
