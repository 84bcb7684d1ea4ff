/* options: the small argument parser every subcommand uses. A command lists its options in
   a table; opt_parse walks argv, fills the targets, and reports an unknown option or a bad
   value as a usage error (exit status 2). A number option with a default has that default
   in its target; one without (its absence means something, as "the checkpoint's shape")
   fills a MaybeInt or MaybeFloat, whose given flag is the one way to tell it was left out. */
#ifndef RLCHAT_OPTIONS_H
#define RLCHAT_OPTIONS_H

#include <stdint.h>

typedef enum { OPT_FLAG, OPT_INT, OPT_FLOAT, OPT_STRING, OPT_CALL, OPT_MAYBE_INT, OPT_MAYBE_FLOAT } OptKind;

typedef struct {
    const char *name;   /* "--lr" */
    OptKind kind;       /* what target points to: int (flag, int), float, const char * (NULL
                           when left out), OptCall, MaybeInt, MaybeFloat */
    void *target;       /* where the value goes */
    const char *help;   /* one line for --help, with the default; NULL keeps an older spelling
                           out of --help */
} Option;

/* An OPT_CALL option's target: a function that takes each value of an option that may be
   given more than once, or that parses its value itself. It returns 0, or -1 with
   err_msg(), which opt_parse reports as a usage error. */
typedef struct {
    int (*take)(void *ctx, const char *option, const char *value);
    void *ctx;          /* passed to take */
} OptCall;

/* The target of a number option without a default. */
typedef struct {
    int given;          /* 1 when the command line set it */
    int value;          /* what it was set to; 0 when not given */
} MaybeInt;

typedef struct {
    int given;          /* 1 when the command line set it */
    float value;        /* what it was set to; 0 when not given */
} MaybeFloat;

/* Parses argv[1..argc-1] (argv[0] is the subcommand). Positional arguments are collected
   into positional (up to max_positional). Returns 0, 1 when --help was printed, or 2 after
   printing a usage error. usage is the synopsis line shown with --help and on errors. */
int opt_parse(int argc, char **argv, const Option *opts, const char *usage,
              const char **positional, int max_positional, int *n_positional);

#endif
