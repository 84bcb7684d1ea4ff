/* rater: scripted preferences and the distinct-2 diversity measure. See rater.h. */
#include "rater.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"

static const char *POSITIVE[] = {"love", "great", "good", "awesome", "amazing", "nice", "happy", "fun",
                                 "wonderful", "enjoy", "best", "cool", "glad", "beautiful", "fantastic",
                                 "favorite", "favourite", "excellent", "like", NULL};

int rater_parse(Rater *r, const char *spec) {
    memset(r, 0, sizeof *r);
    snprintf(r->spec, sizeof r->spec, "%s", spec);
    if (!strcmp(spec, "question")) r->kind = RATER_QUESTION;
    else if (!strcmp(spec, "short")) r->kind = RATER_SHORT;
    else if (!strcmp(spec, "positive")) r->kind = RATER_POSITIVE;
    else if (!strncmp(spec, "topic:", 6) && spec[6] && strlen(spec + 6) < sizeof r->word) {
        r->kind = RATER_TOPIC;
        for (size_t i = 0; spec[6 + i]; i++) r->word[i] = (char)tolower((unsigned char)spec[6 + i]);
    } else {
        err_set("unknown rater '%s' (question, short, positive, topic:WORD)", spec);
        return -1;
    }
    return 0;
}

/* Splits text into lower-case words of letters, digits and apostrophes; returns the count. */
static int words_of(const char *text, char words[][32], int max) {
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        while (*p && !isalnum((unsigned char)*p) && *p != '\'') p++;
        int len = 0;
        while (*p && (isalnum((unsigned char)*p) || *p == '\'')) {
            if (len < 31) words[n][len++] = (char)tolower((unsigned char)*p);
            p++;
        }
        if (len) words[n++][len] = 0;
    }
    return n;
}

int rater_prefers(const Rater *r, const char *reply) {
    char words[128][32];
    int n = words_of(reply, words, 128);
    switch (r->kind) {
    case RATER_QUESTION: return strchr(reply, '?') != NULL;
    case RATER_SHORT: return n > 0 && n <= 8;
    case RATER_POSITIVE:
        for (int i = 0; i < n; i++)
            for (int k = 0; POSITIVE[k]; k++)
                if (!strcmp(words[i], POSITIVE[k])) return 1;
        return 0;
    case RATER_TOPIC:
        for (int i = 0; i < n; i++)
            if (!strncmp(words[i], r->word, strlen(r->word))) return 1; /* "movie" matches "movies" */
        return 0;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

double distinct2(char **replies, int n) {
    int cap = 1024, count = 0;
    char **grams = xmalloc((size_t)cap * sizeof(char *));
    for (int i = 0; i < n; i++) {
        char words[128][32];
        int nw = words_of(replies[i], words, 128);
        for (int w = 1; w < nw; w++) {
            if (count == cap) grams = xrealloc(grams, (size_t)(cap *= 2) * sizeof(char *));
            char buf[80];
            snprintf(buf, sizeof buf, "%.31s %.31s", words[w - 1], words[w]);
            grams[count++] = xstrdup(buf);
        }
    }
    qsort(grams, (size_t)count, sizeof(char *), cmp_str);
    int unique = 0;
    for (int i = 0; i < count; i++) unique += i == 0 || strcmp(grams[i], grams[i - 1]) != 0;
    for (int i = 0; i < count; i++) free(grams[i]);
    free(grams);
    return count ? (double)unique / count : 0;
}
