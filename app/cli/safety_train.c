/* safety_train: `rlchat safety-train`, which trains the toxicity classifier shipped as
   assets/toxicity.bin, and with --eval prints the block rates of the shipped filter on the
   shared evaluation sets (what `make eval-safety` shows).

   Data (read from --data, default ../shared/data; nothing from it is copied into the repo):
     hatecheck/test_suite_cases.csv  label_gold hateful -> 1, non-hateful -> 0
     davidson/data/labeled_data.csv  class 0 (hate speech) and 1 (offensive) -> 1, 2 -> 0
     corpus/train.txt                a sample of ordinary chat lines -> 0 (keeps chat clean)
   A fifth of each labelled set is held out, by HateCheck template and by Davidson row, so
   the table can show what the classifier does on text it never saw. The decision threshold
   is the higher of two: list and classifier together block at most --target of the lines
   of corpus/valid.txt, and the classifier blocks at most --fp-budget of the inoffensive
   labelled lines the list lets through, judged by 4-fold cross-validation on the training
   part. The held-out fifth and corpus/test.txt are only ever measured. */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/assets.h"
#include "app/cli/cli.h"
#include "app/options.h"
#include "model/util.h"
#include "rl/safety.h"
#include "rl/toxicity.h"

enum { FOLD_ALWAYS = -1, FOLD_HELD = 0, FOLDS = 5 };

/* One labelled line. */
typedef struct {
    char *text;      /* cleaned text */
    uint8_t label;   /* 1 offensive / hateful */
    int8_t fold;     /* FOLD_HELD: never trained on; 1..4: a cross-validation fold of the
                        training part; FOLD_ALWAYS: always trained on (chat lines) */
    char group[64];  /* functionality, class name or toxigen folder, for the table */
} Item;

typedef struct {
    Item *it;
    int n, cap;
} Items;

static void items_add(Items *s, const char *text, size_t len, int label, int fold, const char *group) {
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->it = xrealloc(s->it, (size_t)s->cap * sizeof(Item));
    }
    Item *it = &s->it[s->n++];
    it->text = xmalloc(len + 1);
    memcpy(it->text, text, len);
    it->text[len] = 0;
    it->label = (uint8_t)label, it->fold = (int8_t)fold;
    snprintf(it->group, sizeof it->group, "%s", group);
}

static void items_free(Items *s) {
    for (int i = 0; i < s->n; i++) free(s->it[i].text);
    free(s->it);
}

/* ---- reading the sets ---- */

/* Parses the next CSV record at *p (RFC 4180: quotes, doubled quotes, newlines inside
   quotes) into fields, unquoted in place. Returns the field count, 0 at the end. */
static int csv_row(char **p, char **fields, int max) {
    char *s = *p, *out;
    int n = 0;
    if (!*s) return 0;
    for (;;) {
        char *f = out = s;
        if (*s == '"') {
            s++;
            for (;;) {
                if (!*s) break;
                if (*s == '"' && s[1] == '"') *out++ = '"', s += 2;
                else if (*s == '"') { s++; break; }
                else *out++ = *s++;
            }
            while (*s && *s != ',' && *s != '\n') s++;
        } else {
            while (*s && *s != ',' && *s != '\n' && *s != '\r') s++;
            out = s;
        }
        char end = *s;
        if (end == '\r') end = *++s == '\n' ? '\n' : *s;
        *out = 0;
        if (n < max) fields[n++] = f;
        if (end == ',') { s++; continue; }
        if (end == '\n') s++;
        break;
    }
    *p = s;
    return n;
}

static int col(char **h, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(h[i], name)) return i;
    return -1;
}

/* Tweets to chat-like text: no retweet marks, @handles, links or HTML entities. */
static size_t clean_tweet(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = in; *p && n + 2 < cap;) {
        int at_word = p == in || p[-1] == ' ' || p[-1] == '"' || p[-1] == ':';
        if (*p == '@' || (at_word && !strncmp(p, "http", 4))) {
            while (*p && *p != ' ') p++;
        } else if (at_word && !strncmp(p, "RT", 2) && (p[2] == ' ' || p[2] == ':' || !p[2])) {
            p += 2;
        } else if (*p == '&') {
            const char *semi = strchr(p, ';');
            if (semi && semi - p < 10) {
                if (!strncmp(p, "&amp;", 5)) out[n++] = '&';
                else if (!strncmp(p, "&lt;", 4)) out[n++] = '<';
                else if (!strncmp(p, "&gt;", 4)) out[n++] = '>';
                else out[n++] = ' ';
                p = semi + 1;
            } else {
                out[n++] = *p++;
            }
        } else {
            out[n++] = *p == '\n' || *p == '\r' ? ' ' : *p;
            p++;
        }
    }
    out[n] = 0;
    return n;
}

static int load_hatecheck(const char *dir, Items *s) {
    char path[4096];
    snprintf(path, sizeof path, "%s/hatecheck/test_suite_cases.csv", dir);
    char *data = read_file(path, NULL), *p = data, *f[32], *h[32];
    if (!data) return -1;
    int nh = csv_row(&p, h, 32);
    int cf = col(h, nh, "functionality"), ct = col(h, nh, "test_case"), cl = col(h, nh, "label_gold"),
        cm = col(h, nh, "templ_id");
    if (cf < 0 || ct < 0 || cl < 0 || cm < 0) {
        err_set("%s: missing functionality/test_case/label_gold/templ_id columns", path);
        free(data);
        return -1;
    }
    int n;
    while ((n = csv_row(&p, f, 32)) > 0) {
        if (n < nh) continue;
        const char *t = f[ct];
        while (*t == ' ') t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ') len--;
        int fold = (int)(fnv1a(FNV1A_SEED, f[cm], strlen(f[cm])) % FOLDS);
        items_add(s, t, len, !strcmp(f[cl], "hateful"), fold, f[cf]);
    }
    free(data);
    return 0;
}

static int load_davidson(const char *dir, Items *s) {
    static const char *names[3] = {"hate speech", "offensive", "neither"};
    char path[4096], buf[2048];
    snprintf(path, sizeof path, "%s/davidson/data/labeled_data.csv", dir);
    char *data = read_file(path, NULL), *p = data, *f[16], *h[16];
    if (!data) return -1;
    int nh = csv_row(&p, h, 16);
    int cc = col(h, nh, "class"), ct = col(h, nh, "tweet");
    if (cc < 0 || ct < 0) {
        err_set("%s: missing class/tweet columns", path);
        free(data);
        return -1;
    }
    int n, row = 0;
    while ((n = csv_row(&p, f, 16)) > 0) {
        if (n < nh) continue;
        int c = atoi(f[cc]);
        if (c < 0 || c > 2) continue;
        size_t len = clean_tweet(f[ct], buf, sizeof buf);
        char key[32];
        snprintf(key, sizeof key, "d%d", row++);
        items_add(s, buf, len, c < 2, (int)(fnv1a(FNV1A_SEED, key, strlen(key)) % FOLDS), names[c]);
    }
    free(data);
    return 0;
}

/* Adds every line of path (at most max, every stride-th) with one label and group. */
static int load_lines(const char *path, Items *s, int label, const char *group, int stride) {
    char *data = read_file(path, NULL);
    if (!data) return -1;
    int i = 0;
    for (char *line = data, *nl; line && *line; line = nl) {
        nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (nl) nl++;
        if (len && line[len - 1] == '\r') len--;
        if (len && i++ % stride == 0) items_add(s, line, len, label, FOLD_HELD, group);
    }
    free(data);
    return 0;
}

static int load_toxigen(const char *dir, Items *s) {
    char path[3072];
    snprintf(path, sizeof path, "%s/toxigen-demos/demonstrations", dir);
    DIR *d = opendir(path);
    if (!d) {
        err_set("%s: cannot open", path);
        return -1;
    }
    const char *folders[] = {"disability", "nationality", "race", "religion", "sexual_orientation"};
    closedir(d);
    for (int k = 0; k < 5; k++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, folders[k]);
        DIR *e = opendir(sub);
        if (!e) continue;
        /* read names first, sorted, so the order never depends on the file system */
        char *names[64];
        int nn = 0;
        for (struct dirent *de; (de = readdir(e)) && nn < 64;)
            if (strstr(de->d_name, ".txt")) names[nn++] = xstrdup(de->d_name);
        closedir(e);
        qsort(names, (size_t)nn, sizeof *names, (int (*)(const void *, const void *))strcmp);
        for (int i = 0; i < nn; i++) {
            /* neutral_muslim.txt duplicates neutral_muslim_sentences.txt: skip the copy */
            int hate = !strncmp(names[i], "hate_", 5);
            if (!strcmp(names[i], "neutral_muslim.txt")) { free(names[i]); continue; }
            char file[8192], group[64];
            snprintf(file, sizeof file, "%s/%s", sub, names[i]);
            snprintf(group, sizeof group, "%s", folders[k]);
            if (load_lines(file, s, hate, group, 1) != 0) return -1;
            free(names[i]);
        }
    }
    return 0;
}

/* ---- training ---- */

/* Nouns for groups of people, as they appear after safety_normalize (lower case). In the
   labelled sets a line that names a group is far more often hateful than not, so a
   classifier learns "names a group" as "hateful" and blocks "I love Muslims". Training
   balances that away: see balance_identities. This list is for training only. */
static const char *IDENTITY_TERMS[] = {
    "women", "woman", "girls", "females", "trans", "transgender", "gay", "gays", "lesbian", "lesbians",
    "homosexual", "homosexuals", "black", "blacks", "african", "disabled", "muslim", "muslims", "islam",
    "immigrant", "immigrants", "refugee", "refugees", "migrants", "foreigners", "jew", "jews", "jewish",
    "asian", "asians", "mexican", "mexicans", "arab", "arabs", "christian", "christians", "indian",
    "indians", "chinese", "latino", "latinos", NULL};

static int has_word(const char *text, const char *w) {
    size_t n = strlen(w);
    for (const char *p = strstr(text, w); p; p = strstr(p + 1, w)) {
        int start = p == text || !isalpha((unsigned char)p[-1]);
        int end = !isalpha((unsigned char)p[n]);
        if (start && end) return 1;
    }
    return 0;
}

/* Scales the weight of each non-offensive line that names a group, so that for every
   term the non-offensive lines naming it weigh as much as the offensive ones: the term
   alone then carries no evidence either way, and what is said about the group decides.
   (Reweighting to remove a confound, Kamiran & Calders 2012.) Factors are capped at 10. */
static void balance_identities(char **texts, const uint8_t *labels, float *weights, int n) {
    int nt = 0;
    while (IDENTITY_TERMS[nt]) nt++;
    double *pos = xcalloc((size_t)nt, sizeof(double)), *neg = xcalloc((size_t)nt, sizeof(double));
    uint8_t *hit = xmalloc((size_t)n * nt);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < nt; k++) {
            hit[(size_t)i * nt + k] = (uint8_t)has_word(texts[i], IDENTITY_TERMS[k]);
            if (hit[(size_t)i * nt + k]) *(labels[i] ? &pos[k] : &neg[k]) += weights[i];
        }
    for (int i = 0; i < n; i++) {
        if (labels[i]) continue;
        double f = 1;
        for (int k = 0; k < nt; k++)
            if (hit[(size_t)i * nt + k] && neg[k] > 0 && pos[k] / neg[k] > f) f = pos[k] / neg[k];
        weights[i] *= (float)(f < 10 ? f : 10);
    }
    free(pos), free(neg), free(hit);
}

typedef struct {
    const char *data, *out, *assets;
    int bits, epochs, corpus_lines, seed, balance;
    float lr, l2, target, neg_weight, min_threshold, fp_budget;
} TrainArgs;

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x > y ? -1 : x < y;
}

/* The classifier's score of a line the list lets through, or -1 when the list blocks it. */
static float score_past_list(const Safety *sf, const Toxicity *t, const char *text) {
    SafetyVerdict v;
    char buf[4096];
    size_t len = strlen(text);
    if (safety_check(sf, text, len, &v)) return -1;
    return tox_score(t, buf, safety_classifier_text(sf, text, len, buf, sizeof buf));
}

/* The lowest threshold at which the classifier blocks at most `allowed` of the m scores
   (sorted in place): 1 when it may block none, 0.5 (even odds) when it may block all. */
static float threshold_allowing(float *scores, int m, int allowed) {
    if (allowed <= 0) return 1.0f;
    if (allowed >= m) return 0.5f;
    qsort(scores, (size_t)m, sizeof(float), cmp_desc);
    return nextafterf(scores[allowed], 2.0f); /* the allowed-th highest score is the last one blocked */
}

/* Threshold so that list + classifier block at most target of the lines of valid. */
static float tune_threshold(const Safety *sf, const Toxicity *t, const Items *valid, float target, float floor_thr) {
    float *scores = xmalloc((size_t)(valid->n + 1) * sizeof(float));
    int listed = 0, m = 0;
    for (int i = 0; i < valid->n; i++) {
        float p = score_past_list(sf, t, valid->it[i].text);
        if (p < 0) listed++;
        else scores[m++] = p;
    }
    float thr = threshold_allowing(scores, m, (int)floorf(target * (float)valid->n) - listed);
    free(scores);
    return thr < floor_thr ? floor_thr : thr;
}

/* Trains t on every line of tr except the held-out ones and fold skip (0: none).
   Returns the number of lines trained on. */
static int fit(const TrainArgs *a, const Items *tr, int skip, Toxicity *t) {
    char **texts = xmalloc((size_t)tr->n * sizeof(char *));
    uint8_t *labels = xmalloc((size_t)tr->n);
    float *weights = xmalloc((size_t)tr->n * sizeof(float));
    int n = 0;
    char buf[4096];
    for (int i = 0; i < tr->n; i++) {
        const Item *it = &tr->it[i];
        if (it->fold == FOLD_HELD || (skip && it->fold == skip)) continue;
        safety_normalize(it->text, strlen(it->text), buf, sizeof buf);
        texts[n] = xstrdup(buf);
        labels[n] = it->label;
        /* Innocent lines that name a group are rare beside hateful ones; weighting them up
           keeps the classifier from learning "mentions a group" as "hateful". */
        weights[n++] = it->label ? 1.0f : it->fold == FOLD_ALWAYS ? 1.0f : a->neg_weight;
    }
    if (a->balance) balance_identities(texts, labels, weights, n);
    ToxTrainConfig cfg = {.bits = a->bits, .epochs = a->epochs, .lr = a->lr, .l2 = a->l2, .seed = (uint64_t)a->seed};
    tox_init(t, a->bits);
    tox_train(t, &cfg, texts, labels, weights, n);
    for (int i = 0; i < n; i++) free(texts[i]);
    free(texts), free(labels), free(weights);
    return n;
}

/* The lowest threshold at which the classifier blocks at most budget of the labelled
   inoffensive lines the list lets through, judged out of fold: each training fold is
   scored by a classifier trained without it (4-fold cross-validation on the training
   part; the held-out fifth is never looked at). On lines it was trained on the classifier
   is right almost always, so they cannot show where its false alarms begin. */
static float cross_validated_threshold(const TrainArgs *a, const Items *tr, const Safety *sf, float budget) {
    float *scores = xmalloc((size_t)tr->n * sizeof(float));
    int m = 0;
    for (int k = 1; k < FOLDS; k++) {
        Toxicity t = {0};
        fit(a, tr, k, &t);
        for (int i = 0; i < tr->n; i++) {
            float p = tr->it[i].fold == k && !tr->it[i].label ? score_past_list(sf, &t, tr->it[i].text) : -1;
            if (p >= 0) scores[m++] = p;
        }
        tox_free(&t);
    }
    float thr = threshold_allowing(scores, m, (int)floorf(budget * (float)m));
    fprintf(stderr, "safety-train: of %d inoffensive labelled lines the list lets through, out of fold the classifier blocks", m);
    for (int k = 5; k <= 9; k++) {
        int blocked = 0;
        for (int i = 0; i < m; i++) blocked += scores[i] >= k / 10.0f;
        fprintf(stderr, " %.1f%% at %.1f%s", 100.0 * blocked / (m ? m : 1), k / 10.0, k < 9 ? "," : "\n");
    }
    free(scores);
    return thr;
}

static int train(const TrainArgs *a) {
    Items tr = {0}, valid = {0};
    char path[4096];
    int rc = 1;
    Safety *sf = NULL;
    Toxicity t = {0};
    if (load_hatecheck(a->data, &tr) || load_davidson(a->data, &tr)) goto out;
    int labelled = tr.n, held = 0;
    for (int i = 0; i < labelled; i++) held += tr.it[i].fold == FOLD_HELD;
    snprintf(path, sizeof path, "%s/corpus/train.txt", a->data);
    Items chat = {0};
    if (load_lines(path, &chat, 0, "chat", 1)) goto out;
    Rng rng;
    rng_seed(&rng, (uint64_t)a->seed);
    for (int i = 0; i < a->corpus_lines && chat.n; i++) { /* a seeded sample of chat lines */
        Item *c = &chat.it[rng_u32(&rng) % (uint32_t)chat.n];
        items_add(&tr, c->text, strlen(c->text), 0, FOLD_ALWAYS, "chat");
    }
    items_free(&chat);
    snprintf(path, sizeof path, "%s/corpus/valid.txt", a->data);
    if (load_lines(path, &valid, 0, "chat", 1)) goto out;
    if (!(sf = safety_load(a->assets))) goto out;
    safety_set_classifier(sf, 0);

    double t0 = now_seconds();
    int n = fit(a, &tr, 0, &t);
    fprintf(stderr, "safety-train: %d labelled lines (%d held out), %d chat lines; trained on %d\n", labelled, held,
            tr.n - labelled, n);
    float thr_chat = tune_threshold(sf, &t, &valid, a->target, a->min_threshold);
    float thr_cv = cross_validated_threshold(a, &tr, sf, a->fp_budget);
    t.threshold = fmaxf(thr_chat, thr_cv);
    fprintf(stderr, "safety-train: %.1f s; threshold %.4f (list + classifier <= %.2f%% of corpus/valid.txt: %.4f; "
            "classifier <= %.2f%% of inoffensive labelled lines out of fold: %.4f)\n",
            now_seconds() - t0, t.threshold, 100 * a->target, thr_chat, 100 * a->fp_budget, thr_cv);
    if (tox_save(&t, a->out) != 0) goto out;
    fprintf(stderr, "safety-train: wrote %s (%zu bytes)\n", a->out, ((size_t)4 << a->bits) + 24);
    rc = 0;
out:
    if (rc) fprintf(stderr, "rlchat: %s\n", err_msg());
    tox_free(&t);
    safety_free(sf);
    items_free(&tr), items_free(&valid);
    return rc;
}

/* ---- the plain list: the baseline the filter is compared with ---- */

/* LDNOOBW's English list matched as it is: lower case, whole words and phrases, no
   normalisation, no allowlist, no classifier. What "a plain word list" does. */
typedef struct {
    char **words;
    int n;
} PlainList;

static int plain_load(const char *data, PlainList *pl) {
    char path[4096];
    snprintf(path, sizeof path, "%s/ldnoobw/en", data);
    Items lines = {0};
    memset(pl, 0, sizeof *pl);
    if (load_lines(path, &lines, 1, "", 1) != 0) return -1;
    pl->words = xmalloc((size_t)lines.n * sizeof(char *));
    for (int i = 0; i < lines.n; i++) {
        for (char *c = lines.it[i].text; *c; c++) *c = (char)tolower((unsigned char)*c);
        pl->words[pl->n++] = xstrdup(lines.it[i].text);
    }
    items_free(&lines);
    return 0;
}

static void plain_free(PlainList *pl) {
    for (int i = 0; i < pl->n; i++) free(pl->words[i]);
    free(pl->words);
}

static int plain_blocks(const PlainList *pl, const char *text) {
    char *low = xstrdup(text);
    for (char *c = low; *c; c++) *c = (char)tolower((unsigned char)*c);
    int hit = 0;
    for (int i = 0; i < pl->n && !hit; i++) hit = has_word(low, pl->words[i]);
    free(low);
    return hit;
}

/* ---- the table ---- */

typedef struct {
    int n, plain, list, both;     /* lines, blocked by the plain list, our list, list + classifier */
    int hn, hplain, hlist, hboth; /* the same on held-out lines */
} Rate;

static void rate_add(Rate *a, const Rate *b) {
    a->n += b->n, a->plain += b->plain, a->list += b->list, a->both += b->both;
    a->hn += b->hn, a->hplain += b->hplain, a->hlist += b->hlist, a->hboth += b->hboth;
}

/* v: the verdict of list + classifier. */
static void tally(Safety *sf, const PlainList *pl, const Item *it, Rate *r, SafetyVerdict *v) {
    size_t len = strlen(it->text);
    safety_set_classifier(sf, 0);
    int l = safety_check(sf, it->text, len, v);
    safety_set_classifier(sf, 1);
    int b = safety_check(sf, it->text, len, v);
    int p = plain_blocks(pl, it->text);
    r->n++, r->plain += p, r->list += l, r->both += b;
    if (it->fold == FOLD_HELD) r->hn++, r->hplain += p, r->hlist += l, r->hboth += b;
}

static double pct(int a, int n) { return 100.0 * a / (n ? n : 1); }

static void row(const char *name, const Rate *r, int held) {
    printf("  %-34s %6d %7.1f%% %7.1f%% %7.1f%%", name, r->n, pct(r->plain, r->n), pct(r->list, r->n),
           pct(r->both, r->n));
    if (held && r->hn)
        printf("   %6d %7.1f%% %7.1f%% %7.1f%%", r->hn, pct(r->hplain, r->hn), pct(r->hlist, r->hn),
               pct(r->hboth, r->hn));
    printf("\n");
}

/* HateCheck's non-hateful cases that still hold profanity or a slur: rlchat blocks those
   in its own replies on purpose (a chat bot should not swear or use slurs, reclaimed or
   not), so the non-hateful rate is also shown without them. */
static int profane_by_design(const char *functionality) {
    return !strcmp(functionality, "profanity_nh") || !strcmp(functionality, "slur_homonym_nh") ||
           !strcmp(functionality, "slur_reclaimed_nh");
}

/* Prints one table section: the overall rows by label, then one row per group. */
static void section(Safety *sf, const PlainList *pl, const char *title, const Items *s, const char *lab1,
                    const char *lab0, int by_group, int held) {
    Rate all[2] = {{0}}, clean0 = {0};
    char groups[64][64], reasons[32][32];
    Rate gr[64] = {{0}};
    int ng = 0, nr = 0, by_reason[32] = {0};
    for (int i = 0; i < s->n; i++) {
        const Item *it = &s->it[i];
        Rate tmp = {0};
        SafetyVerdict v;
        tally(sf, pl, it, &tmp, &v);
        rate_add(&all[it->label], &tmp);
        if (!it->label && v.blocked) { /* what made an innocent line blocked */
            int k = 0;
            while (k < nr && strcmp(reasons[k], v.category)) k++;
            if (k == nr && nr < 32) snprintf(reasons[nr++], 32, "%s", v.category);
            if (k < 32) by_reason[k]++;
        }
        if (!it->label && !profane_by_design(it->group)) rate_add(&clean0, &tmp);
        char g[64];
        snprintf(g, sizeof g, "%.48s%s", it->group, by_group == 2 ? (it->label ? " hate" : " neutral") : "");
        int k = 0;
        while (k < ng && strcmp(groups[k], g)) k++;
        if (k == ng && ng < 64) snprintf(groups[ng++], 64, "%s", g);
        if (k < 64) rate_add(&gr[k], &tmp);
    }
    printf("%s\n", title);
    if (lab1) row(lab1, &all[1], held);
    if (lab0) row(lab0, &all[0], held);
    if (lab0 && clean0.n < all[0].n) row("  without profanity/slur cases", &clean0, held);
    if (lab0 && nr) {
        printf("    %s blocked, by what matched:", lab0);
        for (int k = 0; k < nr; k++) printf(" %s %d", reasons[k], by_reason[k]);
        printf("\n");
    }
    if (by_group)
        for (int k = 0; k < ng; k++) row(groups[k], &gr[k], held);
}

static int eval(const char *data, const char *assets, MaybeFloat threshold) {
    char path[4096];
    Items hc = {0}, dv = {0}, tg = {0}, ct = {0};
    int rc = 1;
    Safety *sf = safety_load(assets);
    PlainList pl = {0};
    if (!sf || plain_load(data, &pl) != 0) goto out;
    if (threshold.given) safety_set_threshold(sf, threshold.value);
    if (!safety_has_classifier(sf)) fprintf(stderr, "rlchat: note: no classifier in %s; both columns are the list\n", assets);
    snprintf(path, sizeof path, "%s/corpus/test.txt", data);
    if (load_hatecheck(data, &hc) || load_davidson(data, &dv) || load_toxigen(data, &tg) ||
        load_lines(path, &ct, 0, "corpus test.txt (non-empty lines)", 1))
        goto out;
    printf("block rates (assets: %s, classifier threshold %.3f)\n", assets, safety_threshold(sf));
    printf("  plain = LDNOOBW's list as it is; list = ours, normalised; +clf = ours and the classifier\n");
    printf("  %-34s %6s %8s %8s %8s   %6s %8s %8s %8s\n", "set", "n", "plain", "list", "+clf", "held", "plain",
           "list", "+clf");
    section(sf, &pl, "hatecheck (held = templates never trained on)", &hc, "hateful", "non-hateful", 1, 1);
    section(sf, &pl, "davidson (held = rows never trained on)", &dv, NULL, NULL, 1, 1);
    section(sf, &pl, "toxigen-demos (never trained on)", &tg, "hate", "neutral", 2, 0);
    section(sf, &pl, "corpus (never trained on)", &ct, NULL, NULL, 1, 0);
    rc = 0;
out:
    if (rc) fprintf(stderr, "rlchat: %s\n", err_msg());
    safety_free(sf);
    plain_free(&pl);
    items_free(&hc), items_free(&dv), items_free(&tg), items_free(&ct);
    return rc;
}

int cli_safety_train(int argc, char **argv) {
    TrainArgs a = {.data = "../shared/data", .out = NULL, .bits = 16, .epochs = 8, .corpus_lines = 30000,
                   .seed = 1, .lr = 0.2f, .l2 = 1e-6f, .target = 0.005f, .neg_weight = 3, .min_threshold = 0.7f, .fp_budget = 0.01f,
                   .balance = 1};
    MaybeFloat threshold = {0};
    int do_eval = 0;
    const Option opts[] = {
        {"--data", OPT_STRING, &a.data, "folder with hatecheck/, davidson/, corpus/ (../shared/data)"},
        {"--out", OPT_STRING, &a.out, "classifier file to write (ASSETS/toxicity.bin)"},
        {"--assets", OPT_STRING, &a.assets, "folder with blocklist.txt (default: the shipped assets)"},
        {"--bits", OPT_INT, &a.bits, "log2 of the hash buckets (16)"},
        {"--epochs", OPT_INT, &a.epochs, "passes over the data (8)"},
        {"--lr", OPT_FLOAT, &a.lr, "AdaGrad step size (0.2)"},
        {"--l2", OPT_FLOAT, &a.l2, "weight decay (1e-6)"},
        {"--corpus-lines", OPT_INT, &a.corpus_lines, "chat lines sampled as negatives (30000)"},
        {"--target", OPT_FLOAT, &a.target, "largest share of corpus/valid.txt to block (0.005)"},
        {"--neg-weight", OPT_FLOAT, &a.neg_weight, "weight of the non-offensive labelled lines (3)"},
        {"--fp-budget", OPT_FLOAT, &a.fp_budget, "largest share of inoffensive labelled lines, out of fold, the classifier may block (0.01)"},
        {"--min-threshold", OPT_FLOAT, &a.min_threshold, "lowest decision threshold the tuning may pick (0.7)"},
        {"--threshold", OPT_MAYBE_FLOAT, &threshold, "with --eval: override the file's threshold, 0..1"},
        {"--seed", OPT_INT, &a.seed, "seed for sampling and shuffling (1)"},
        {"--balance", OPT_INT, &a.balance, "1: balance the weight of lines naming a group (1); 0: off"},
        {"--eval", OPT_FLAG, &do_eval, "print block rates of the filter in --assets instead of training"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat safety-train [--data DIR] [--out FILE] [--assets DIR] [--eval]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (a.bits < 8 || a.bits > 20 || a.epochs < 1 || a.corpus_lines < 0 || a.target < 0 || a.target > 1 ||
        a.lr <= 0 || a.l2 < 0 || a.neg_weight <= 0 || a.fp_budget < 0 || a.fp_budget > 1 ||
        (threshold.given && (threshold.value < 0 || threshold.value > 1))) {
        fprintf(stderr, "rlchat: --bits must be 8..20, --epochs, --lr and --neg-weight positive, --l2 at least 0, "
                        "--target, --fp-budget and --threshold in [0, 1]\n");
        return 2;
    }
    if (!a.assets) a.assets = assets_dir_default();
    if (do_eval) return eval(a.data, a.assets, threshold);
    char out[4096];
    snprintf(out, sizeof out, "%s/toxicity.bin", a.assets);
    if (!a.out) a.out = out;
    return train(&a);
}
