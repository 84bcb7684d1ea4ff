/* test_options: the argument parser (app/options.h). A number option without a default
   says whether it was given; an OPT_CALL option sees every value in order; bad values are
   usage errors (status 2), printed on stderr, which the tests send to /dev/null. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/options.h"
#include "model/util.h"
#include "tests/check.h"

/* opt_parse on a NULL-terminated argument list, stderr silenced. */
static int parse(const Option *opts, const char **args) {
    char *argv[32] = {"cmd"};
    int argc = 1;
    for (; args[argc - 1] && argc < 31; argc++) argv[argc] = (char *)args[argc - 1];
    fflush(stderr);
    int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
    dup2(null, STDERR_FILENO);
    int rc = opt_parse(argc, argv, opts, "cmd [options]", NULL, 0, NULL);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved), close(null);
    return rc;
}

static void test_an_option_without_a_default_says_whether_it_was_given(void) {
    MaybeInt layers = {0};
    MaybeFloat temp = {0}, top_p = {0};
    int seq = 64;
    const Option opts[] = {{"--layers", OPT_MAYBE_INT, &layers, "layers"},
                           {"--temp", OPT_MAYBE_FLOAT, &temp, "temperature"},
                           {"--top-p", OPT_MAYBE_FLOAT, &top_p, "mass"},
                           {"--seq", OPT_INT, &seq, "steps (64)"},
                           {NULL, 0, NULL, NULL}};
    CHECK(parse(opts, (const char *[]){"--layers", "-2147483648", "--temp", "0", NULL}) == 0, "parse failed");
    CHECK(layers.given && layers.value == -2147483647 - 1, "--layers: given %d value %d", layers.given, layers.value);
    CHECK(temp.given && temp.value == 0, "--temp 0: given %d value %g", temp.given, (double)temp.value);
    CHECK(!top_p.given, "--top-p counted as given");
    CHECK(seq == 64, "--seq left out lost its default: %d", seq);
}

static void test_bad_numbers_are_usage_errors(void) {
    MaybeInt n = {0};
    MaybeFloat x = {0};
    const Option opts[] = {{"--n", OPT_MAYBE_INT, &n, "n"}, {"--x", OPT_MAYBE_FLOAT, &x, "x"}, {NULL, 0, NULL, NULL}};
    const char *bad[][3] = {{"--n", "1.5", NULL}, {"--n", "2147483648", NULL}, {"--n", "", NULL},
                            {"--x", "nan", NULL}, {"--x", "inf", NULL},        {"--x", "1e99", NULL},
                            {"--x", NULL, NULL},  {"--y", "1", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(parse(opts, bad[i]) == 2, "'%s %s' was not a usage error", bad[i][0], bad[i][1] ? bad[i][1] : "");
    CHECK(!n.given && !x.given, "a refused value counted as given");
}

typedef struct {
    char seen[8][32];
    int n;
} Seen;

static int take(void *ctx, const char *option, const char *value) {
    Seen *s = ctx;
    if (!strcmp(value, "refuse")) {
        err_set("refused");
        return -1;
    }
    if (s->n < 8) snprintf(s->seen[s->n++], sizeof s->seen[0], "%s %s", option, value);
    return 0;
}

static void test_a_call_option_sees_every_value_in_order(void) {
    Seen seen = {0};
    OptCall call = {take, &seen};
    const Option opts[] = {{"--set", OPT_CALL, &call, "KEY=VALUE"}, {"--old", OPT_CALL, &call, NULL},
                           {NULL, 0, NULL, NULL}};
    CHECK(parse(opts, (const char *[]){"--set", "a=1", "--old", "2", "--set", "b=3", NULL}) == 0, "parse failed");
    const char *want[] = {"--set a=1", "--old 2", "--set b=3"};
    CHECK(seen.n == 3, "%d values seen, not 3", seen.n);
    for (int i = 0; i < 3 && i < seen.n; i++) CHECK(!strcmp(seen.seen[i], want[i]), "value %d: '%s'", i, seen.seen[i]);
    CHECK(parse(opts, (const char *[]){"--set", "refuse", NULL}) == 2, "a refused value was not a usage error");
}

int main(void) {
    RUN(test_an_option_without_a_default_says_whether_it_was_given);
    RUN(test_bad_numbers_are_usage_errors);
    RUN(test_a_call_option_sees_every_value_in_order);
    return check_summary();
}
