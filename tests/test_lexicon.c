/* test_lexicon: what a word is, counting in lower case, prefixes, and the word list file
   (a round trip, and a cut, edited or foreign file refused). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/lexicon.h"
#include "model/util.h"
#include "tests/check.h"

static void test_words_are_runs_of_letters_and_apostrophes(void) {
    const char *text = "Don't 'cause it's x3y, caf\xc3\xa9 '' -- o'clock!";
    const char *want[] = {"Don't", "cause", "it's", "x", "y", "caf\xc3\xa9", "o'clock"};
    size_t pos = 0, n;
    const char *w;
    int k = 0, wrong = 0;
    while (word_next(text, strlen(text), &pos, &w, &n)) {
        wrong += k >= 7 || strlen(want[k]) != n || memcmp(want[k], w, n);
        k++;
    }
    CHECK(k == 7 && wrong == 0, "%d words, %d of them wrong", k, wrong);
}

static void test_a_set_counts_in_lower_case_and_knows_prefixes(void) {
    Lexicon x;
    lexicon_build(&x, 1);
    lexicon_add_text(&x, "Hello hello HELLO help", 22);
    CHECK(lexicon_count(&x, "hello", 5) == 3 && lexicon_count(&x, "HeLLo", 5) == 3, "hello counted %u times",
          lexicon_count(&x, "hello", 5));
    CHECK(lexicon_count(&x, "hel", 3) == 0, "a prefix counted as a word");
    CHECK(lexicon_has_prefix(&x, "HEL", 3) && lexicon_has_prefix(&x, "help", 4), "prefixes not known");
    CHECK(!lexicon_has_prefix(&x, "helx", 4), "helx taken for a prefix");
    CHECK(x.words == 2, "%zu words, not 2", x.words);
    lexicon_clear(&x);
    CHECK(!lexicon_count(&x, "hello", 5) && !lexicon_has_prefix(&x, "h", 1), "clear kept words");
    for (int i = 0; i < 5000; i++) { /* growing keeps what is there */
        char w[16];
        int n = snprintf(w, sizeof w, "w%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26, 'a' + i / 676 % 26);
        lexicon_add(&x, w, (size_t)n);
    }
    CHECK(x.words == 5000 && lexicon_count(&x, "wzzz", 4) == 0 && lexicon_count(&x, "wbaa", 4) == 1,
          "after growing: %zu words", x.words);
    lexicon_free(&x);
}

static void test_the_word_list_round_trips_and_a_bad_file_is_refused(void) {
    char path[] = "/tmp/rlchat_words_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    Lexicon x, y;
    lexicon_build(&x, 0);
    lexicon_add_text(&x, "the cat saw the dog; the dog didn't see the cat", 47);
    CHECK(lexicon_save(&x, 2, "# a test list\n", path) == 0, "save: %s", err_msg());
    lexicon_build(&y, 1);
    CHECK(lexicon_load(&y, path) == 0, "load: %s", err_msg());
    CHECK(y.words == 3 && lexicon_count(&y, "the", 3) && lexicon_count(&y, "dog", 3) && !lexicon_count(&y, "saw", 3),
          "read back %zu words", y.words);
    size_t len;
    char *text = read_file(path, &len);
    FILE *f = fopen(path, "w"); /* cut before its last line */
    fwrite(text, 1, len - 10, f);
    fclose(f);
    lexicon_clear(&y);
    CHECK(lexicon_load(&y, path) != 0 && strstr(err_msg(), "cut"), "a cut list loaded (%s)", err_msg());
    char *edited = strdup(text);
    char *dog = strstr(edited, "dog");
    dog[0] = 'f'; /* fog */
    f = fopen(path, "w");
    fwrite(edited, 1, len, f);
    fclose(f);
    CHECK(lexicon_load(&y, path) != 0 && strstr(err_msg(), "crc32"), "an edited list loaded (%s)", err_msg());
    f = fopen(path, "w");
    fputs("the\ncat\n", f);
    fclose(f);
    CHECK(lexicon_load(&y, path) != 0 && strstr(err_msg(), "not an rlchat word list"), "a bare list loaded (%s)",
          err_msg());
    free(edited);
    free(text);
    unlink(path);
    lexicon_free(&x);
    lexicon_free(&y);
}

int main(void) {
    RUN(test_words_are_runs_of_letters_and_apostrophes);
    RUN(test_a_set_counts_in_lower_case_and_knows_prefixes);
    RUN(test_the_word_list_round_trips_and_a_bad_file_is_refused);
    return check_summary();
}
