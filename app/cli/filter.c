/* filter: `rlchat filter [--assets DIR] [--no-classifier] [FILE]`, the safety filter as a
   line tool for scripts and evaluation. For each input line (FILE, or stdin) it prints
   "ok" or "blocked", a tab, the reason (category:entry, or classifier:score; empty when
   ok), a tab, and the line itself, unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/assets.h"
#include "app/cli/cli.h"
#include "app/options.h"
#include "model/util.h"
#include "rl/safety.h"

int cli_filter(int argc, char **argv) {
    const char *assets = NULL;
    int no_clf = 0;
    const Option opts[] = {
        {"--assets", OPT_STRING, &assets, "folder with blocklist.txt, allowlist.txt, toxicity.bin (default: the shipped assets)"},
        {"--no-classifier", OPT_FLAG, &no_clf, "use the word list alone"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat filter [--assets DIR] [--no-classifier] [FILE]";
    const char *pos[1];
    int np = 0;
    int rc = opt_parse(argc, argv, opts, usage, pos, 1, &np);
    if (rc) return rc == 1 ? 0 : rc;
    if (!assets) assets = assets_dir_default();
    FILE *in = stdin;
    if (np && strcmp(pos[0], "-")) {
        in = open_stream(pos[0]);
        if (!in) {
            fprintf(stderr, "rlchat: %s\n", err_msg());
            return 1;
        }
    }
    Safety *s = safety_load(assets);
    if (!s) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        if (in != stdin) fclose(in);
        return 1;
    }
    if (no_clf) safety_set_classifier(s, 0);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n') len--;
        if (len && line[len - 1] == '\r') len--;
        SafetyVerdict v;
        if (safety_check(s, line, len, &v)) {
            if (!strcmp(v.category, "classifier")) printf("blocked\tclassifier:%.3f\t", v.score);
            else printf("blocked\t%s:%s\t", v.category, v.entry);
        } else {
            fputs("ok\t\t", stdout);
        }
        fwrite(line, 1, len, stdout);
        putchar('\n');
    }
    free(line);
    if (in != stdin) fclose(in);
    safety_free(s);
    return 0;
}
