/* words: `rlchat words`, the word list the decoder checks sampled words against.
     rlchat words --corpus FILE [--min N] --out FILE   the words FILE uses at least N times
     rlchat words --score [--list FILE]                how many words of each input line the
                                                       list knows (tools/reply_quality.sh)
   Scoring reads lines "MESSAGE<TAB>REPLY" (or "REPLY" alone) and prints for each
   "words<TAB>known<TAB>known_or_said": the reply's words, those the list holds, and those
   the list or the message holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/assets.h"
#include "app/cli/cli.h"
#include "app/options.h"
#include "model/lexicon.h"
#include "model/util.h"

static int build_list(const char *corpus, int min, const char *out) {
    size_t len;
    char *text = read_file(corpus, &len);
    if (!text) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        return 1;
    }
    Lexicon x;
    lexicon_build(&x, 0);
    lexicon_add_text(&x, text, len);
    free(text);
    const char *base = strrchr(corpus, '/') ? strrchr(corpus, '/') + 1 : corpus;
    char header[512];
    snprintf(header, sizeof header,
             "# The words %s uses at least %d times, in lower case: what the decoder accepts in a\n"
             "# reply besides the words of the user's messages. Made by\n"
             "# `rlchat words --corpus %s --min %d --out FILE`.\n", base, min, base, min);
    int rc = lexicon_save(&x, (uint32_t)min, header, out);
    if (rc != 0) fprintf(stderr, "rlchat: %s\n", err_msg());
    lexicon_free(&x);
    return rc ? 1 : 0;
}

static int score_lines(const char *list) {
    Lexicon known, said;
    lexicon_build(&known, 0);
    if (lexicon_load(&known, list) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        lexicon_free(&known);
        return 1;
    }
    lexicon_build(&said, 0);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)got;
        if (len && line[len - 1] == '\n') len--;
        char *tab = memchr(line, '\t', len);
        const char *reply = tab ? tab + 1 : line;
        size_t reply_len = len - (size_t)(reply - line), pos = 0, n;
        lexicon_clear(&said);
        if (tab) lexicon_add_text(&said, line, (size_t)(tab - line));
        const char *w;
        int words = 0, in_list = 0, in_either = 0;
        while (word_next(reply, reply_len, &pos, &w, &n)) {
            int k = lexicon_count(&known, w, n) > 0;
            words++, in_list += k, in_either += k || lexicon_count(&said, w, n) > 0;
        }
        printf("%d\t%d\t%d\n", words, in_list, in_either);
    }
    free(line);
    lexicon_free(&said);
    lexicon_free(&known);
    return 0;
}

int cli_words(int argc, char **argv) {
    const char *corpus = NULL, *out = NULL, *list = NULL;
    int min = 3, score = 0;
    const Option opts[] = {
        {"--corpus", OPT_STRING, &corpus, "corpus to take the words from"},
        {"--min", OPT_INT, &min, "uses a word needs to be listed (3)"},
        {"--out", OPT_STRING, &out, "the word list to write"},
        {"--score", OPT_FLAG, &score, "count the known words of each line of stdin"},
        {"--list", OPT_STRING, &list, "word list to score against (default: the shipped words.txt)"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat words --corpus FILE [--min N] --out FILE | rlchat words --score [--list FILE]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (score && !corpus) {
        char path[4096];
        if (!list) snprintf(path, sizeof path, "%s/words.txt", assets_dir_default()), list = path;
        return score_lines(list);
    }
    if (!corpus || !out || score || min < 1) {
        fprintf(stderr, "rlchat: words needs --corpus and --out (and --min of at least 1), or --score\nusage: %s\n",
                usage);
        return 2;
    }
    return build_list(corpus, min, out);
}
