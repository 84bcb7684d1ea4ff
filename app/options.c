/* options: see options.h. */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"

static void print_help(const Option *opts, const char *usage) {
    printf("usage: %s\n", usage);
    if (opts[0].name) printf("\noptions:\n");
    for (const Option *o = opts; o->name; o++)
        if (o->help) printf("  %-18s %s\n", o->name, o->help);
}

static int bad(const char *usage, const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "rlchat: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\nusage: %s\n(see --help)\n", usage);
    return 2;
}

int opt_parse(int argc, char **argv, const Option *opts, const char *usage,
              const char **positional, int max_positional, int *n_positional) {
    int np = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            print_help(opts, usage);
            return 1;
        }
        if (arg[0] != '-' || !strcmp(arg, "-")) {
            if (np >= max_positional) return bad(usage, "unexpected argument '%s'%s", arg, "");
            positional[np++] = arg;
            continue;
        }
        const Option *o = opts;
        while (o->name && strcmp(o->name, arg)) o++;
        if (!o->name) return bad(usage, "unknown option '%s'%s", arg, "");
        if (o->kind == OPT_FLAG) {
            *(int *)o->target = 1;
            continue;
        }
        if (i + 1 >= argc) return bad(usage, "option '%s' needs a value%s", arg, "");
        const char *val = argv[++i];
        char *end;
        errno = 0;
        if (o->kind == OPT_INT || o->kind == OPT_MAYBE_INT) {
            long v = strtol(val, &end, 10);
            if (*end || end == val || errno || v < INT_MIN || v > INT_MAX)
                return bad(usage, "option '%s' wants a whole number, not '%s'", arg, val);
            if (o->kind == OPT_INT) *(int *)o->target = (int)v;
            else *(MaybeInt *)o->target = (MaybeInt){1, (int)v};
        } else if (o->kind == OPT_FLOAT || o->kind == OPT_MAYBE_FLOAT) {
            float v = strtof(val, &end);
            if (*end || end == val || errno || !isfinite(v))
                return bad(usage, "option '%s' wants a finite number, not '%s'", arg, val);
            if (o->kind == OPT_FLOAT) *(float *)o->target = v;
            else *(MaybeFloat *)o->target = (MaybeFloat){1, v};
        } else if (o->kind == OPT_CALL) {
            const OptCall *call = o->target;
            if (call->take(call->ctx, arg, val) != 0) return bad(usage, "%s%s", err_msg(), "");
        } else {
            *(const char **)o->target = val;
        }
    }
    if (n_positional) *n_positional = np;
    return 0;
}
