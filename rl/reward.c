/* reward: the terms of R and their combination. See reward.h. */
#include "reward.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

static float clip1(float x) { return isnan(x) ? x : x < -1 ? -1 : x > 1 ? 1 : x; }

RewardWeights reward_default_weights(void) {
    RewardWeights w = {.human = 1.0f, .fluency = 0.1f, .relevance = 0.1f, .informativeness = 0.3f, .safety = 1.0f};
    return w;
}

/* ---- running statistics ---- */

void running_stat_init(RunningStat *s) {
    s->n = 4;
    s->mean = 0;
    s->m2 = 4; /* variance 1 over the 4 prior observations */
}

void running_stat_add(RunningStat *s, double x) {
    s->n += 1;
    double d = x - s->mean;
    s->mean += d / s->n;
    s->m2 += d * (x - s->mean);
}

double running_stat_std(const RunningStat *s) { return sqrt(s->m2 / s->n); }

/* ---- human ---- */

float human_from_stars(int stars) {
    if (stars < 1) stars = 1;
    if (stars > 5) stars = 5;
    return (float)(stars - 3) / 2.0f;
}

/* Centred and scaled by this profile's history, so a user who rates everything "good"
   still tells the learner which replies were better than usual. The prior keeps the
   first ratings near their raw value. */
float human_z(const RunningStat *s, float raw) {
    return clip1((float)((raw - s->mean) / (running_stat_std(s) + 1e-3)));
}

float human_standardised(RunningStat *s, float raw) {
    float z = human_z(s, raw);
    running_stat_add(s, raw);
    return z;
}

/* ---- automatic terms ---- */

/* A fluent reply from the base model averages about -2.5 nats per token; gibberish is
   below -6. Map [-6, -1] onto [-1, 1]. */
float fluency_from_logprob(float mean_logprob) { return clip1((mean_logprob + 3.5f) / 2.5f); }

static void mean_embedding(const Model *m, const int32_t *ids, int n, float *out) {
    int E = m->config.embed_dim, counted = 0;
    memset(out, 0, (size_t)E * sizeof(float));
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= m->config.vocab_size || tokenizer_is_special(ids[i])) continue;
        const float *row = m->params.embedding + (size_t)ids[i] * E;
        for (int e = 0; e < E; e++) out[e] += row[e];
        counted++;
    }
    for (int e = 0; counted && e < E; e++) out[e] /= (float)counted;
}

float relevance_score(const Model *base, const int32_t *message, int n_message, const int32_t *reply, int n_reply) {
    int E = base->config.embed_dim;
    float a[2048], b[2048];
    if (E > 2048 || n_message == 0 || n_reply == 0) return 0;
    mean_embedding(base, message, n_message, a);
    mean_embedding(base, reply, n_reply, b);
    double dot = 0, na = 0, nb = 0;
    for (int e = 0; e < E; e++) dot += a[e] * b[e], na += a[e] * a[e], nb += b[e] * b[e];
    if (na == 0 || nb == 0) return 0;
    return clip1((float)(dot / sqrt(na * nb)));
}

/* Replies that say nothing, whatever was asked. */
static const char *GENERIC[] = {"i don't know", "i dont know", "ok", "okay", "yes", "no", "lol", "me too", "same", "i see", NULL};

static int count_words(const char *text) {
    int words = 0, in = 0;
    for (const char *p = text; *p; p++) {
        int space = isspace((unsigned char)*p);
        if (!space && !in) words++;
        in = !space;
    }
    return words;
}

float informativeness_score(const int32_t *reply, int n, const char *text, float repeated) {
    int words = count_words(text);
    if (n == 0 || words == 0) return -1;
    /* Repeated token bigrams: a looping reply repeats most of them. */
    int repeats = 0;
    for (int i = 1; i < n; i++)
        for (int j = 1; j < i; j++)
            if (reply[j - 1] == reply[i - 1] && reply[j] == reply[i]) {
                repeats++;
                break;
            }
    float score = 0.5f - 2.0f * (n > 1 ? (float)repeats / (float)(n - 1) : 0);
    /* Said before: a model that answers every message with the same line is generic too,
       however fine the line. Replies to different messages share only common phrases; a
       policy that has narrowed onto a few lines repeats all of theirs. */
    score -= repeated;
    /* Length: typical replies in the corpus are 5 to 25 words. */
    if (words < 3) score -= 0.5f;
    else if (words > 40) score -= 0.5f;
    char lower[64];
    size_t len = strlen(text);
    if (len < sizeof lower) {
        size_t k = 0;
        for (size_t i = 0; i < len; i++)
            if (!ispunct((unsigned char)text[i])) lower[k++] = (char)tolower((unsigned char)text[i]);
        while (k > 0 && isspace((unsigned char)lower[k - 1])) k--;
        lower[k] = 0;
        for (int g = 0; GENERIC[g]; g++)
            if (!strcmp(lower, GENERIC[g])) score -= 0.5f;
    }
    return clip1(score);
}

void reward_combine(RewardTerms *t, const RewardWeights *w) {
    t->human = clip1(t->human);
    t->fluency = clip1(t->fluency);
    t->relevance = clip1(t->relevance);
    t->informativeness = clip1(t->informativeness);
    t->safety = clip1(t->safety);
    t->total = w->human * t->human + w->fluency * t->fluency + w->relevance * t->relevance +
               w->informativeness * t->informativeness + w->safety * t->safety;
}
