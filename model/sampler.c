/* sampler: repetition penalty, mask, temperature, min-p, top-k, top-p, then one draw. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"
#include "util.h"

void sampler_build(Sampler *s, int vocab_size) {
    s->vocab_size = vocab_size;
    s->probs = xmalloc((size_t)vocab_size * sizeof(float));
    s->order = xmalloc((size_t)vocab_size * sizeof(int32_t));
    s->key = xmalloc((size_t)vocab_size * sizeof(float));
}

void sampler_free(Sampler *s) {
    free(s->probs);
    free(s->order);
    free(s->key);
    memset(s, 0, sizeof *s);
}

/* The candidates' order: more likely first, ties to the smaller id, so that it is total
   and every run is reproducible. */
static int before(const float *p, int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); }

static void swap_ids(int32_t *ids, int a, int b) {
    int32_t t = ids[a];
    ids[a] = ids[b], ids[b] = t;
}

/* Rearranges ids[0..n) so that ids[0..keep) are the keep most likely candidates and returns
   keep: the smallest count whose probability mass reaches top_p, capped at top_k (either
   off when <= 0 or >= everything). Quickselect: each round partitions around a pivot and
   goes on only with the side that holds the cut, O(n) on average where sorting the
   candidates was O(n log n) (4,096 of them when the distribution is flat).
   Invariant: ids[0..lo) are the lo most likely, with mass mass_lo, lo < keep <= hi, and
   everything in [lo, hi) comes before everything from hi on. */
static int select_nucleus(int32_t *ids, int n, const float *p, int top_k, float top_p) {
    int k = top_k > 0 && top_k < n ? top_k : n;
    float goal = top_p > 0 && top_p < 1 ? top_p : 2.0f; /* 2: a mass never reached */
    if (k == n && goal > 1) return n;
    int lo = 0, hi = n;
    float mass_lo = 0;
    while (hi - lo > 1) {
        swap_ids(ids, lo + (hi - lo) / 2, hi - 1);
        int32_t pivot = ids[hi - 1];
        int i = lo;
        float mass = mass_lo; /* of ids[0..i) once the pass is done */
        for (int j = lo; j < hi - 1; j++)
            if (before(p, ids[j], pivot)) {
                mass += p[ids[j]];
                swap_ids(ids, i++, j);
            }
        swap_ids(ids, i, hi - 1); /* the pivot is the (i+1)-th most likely */
        if (i >= k || mass >= goal)
            hi = i;
        else if (i + 1 >= k || mass + p[pivot] >= goal)
            return i + 1;
        else
            lo = i + 1, mass_lo = mass + p[pivot];
    }
    return hi;
}

/* The distribution sampler_sample draws from: penalty, mask, temperature (the word
   temperature inside the group s->within), then the candidates min-p, top-k and top-p keep. Returns how many are kept, with
   their ids in s->order[0..keep), their probabilities in s->probs (before renormalising)
   and *mass their sum; returns 0 when the draw is an argmax (temperature 0, or nothing
   finite), *best the argmax either way. */
static int distribution(Sampler *s, const SamplerConfig *cfg, float *logits, const int32_t *recent, int n_recent,
                        const uint8_t *mask, int *best_out, float *mass_out) {
    int V = s->vocab_size;
    if (cfg->repetition_penalty > 0 && cfg->repetition_penalty != 1.0f)
        for (int i = 0; i < n_recent; i++) {
            int id = recent[i], seen = 0;
            if (id < 0 || id >= V) continue;
            for (int j = 0; j < i && !seen; j++) seen = recent[j] == id; /* once per id */
            if (seen) continue;
            float *x = &logits[id];
            if (*x > 0) *x /= cfg->repetition_penalty; else *x *= cfg->repetition_penalty;
        }
    if (mask)
        for (int v = 0; v < V; v++)
            if (mask[v]) logits[v] = -INFINITY;
    int best = 0;
    for (int v = 1; v < V; v++)
        if (logits[v] > logits[best]) best = v;
    *best_out = best;
    if (cfg->temperature <= 0 || !isfinite(logits[best])) return 0;
    /* Softmax with temperature (fast_expf(-inf) = 0 for masked ids). */
    float inv_t = 1.0f / cfg->temperature, top = logits[best];
    for (int v = 0; v < V; v++) s->probs[v] = fast_expf((logits[v] - top) * inv_t);
    float inv_sum = 1.0f / sum_floats(s->probs, V);
    for (int v = 0; v < V; v++) s->probs[v] *= inv_sum;
    if (s->within && cfg->word_temperature > 0 && cfg->word_temperature != cfg->temperature) {
        /* The group keeps the mass the temperature gives it; inside it, word_temperature. */
        float group = 0, top_w = -INFINITY, sum = 0, inv_w = 1.0f / cfg->word_temperature;
        for (int v = 0; v < V; v++)
            if (s->within[v]) {
                group += s->probs[v];
                if (logits[v] > top_w) top_w = logits[v];
            }
        if (group > 0) {
            for (int v = 0; v < V; v++)
                if (s->within[v]) sum += (s->key[v] = fast_expf((logits[v] - top_w) * inv_w));
            for (int v = 0; v < V; v++)
                if (s->within[v]) s->probs[v] = group * s->key[v] / sum;
            best = 0;
            for (int v = 1; v < V; v++)
                if (s->probs[v] > s->probs[best]) best = v;
        }
    }
    /* With top-p, a token below (1 - p) / (V - 1) cannot be in the nucleus (llama2.c's
       argument), so only the candidates above it go into the selection; min-p drops those
       below min_p times the likeliest at the same time. */
    float cutoff = (cfg->top_p > 0 && cfg->top_p < 1) ? (1 - cfg->top_p) / (V - 1) : 0;
    if (cfg->min_p > 0 && cfg->min_p * s->probs[best] > cutoff) cutoff = cfg->min_p * s->probs[best];
    int n = 0;
    for (int v = 0; v < V; v++)
        if (s->probs[v] > 0 && s->probs[v] >= cutoff) s->order[n++] = v;
    if (n == 0) s->order[n++] = best;
    int keep = select_nucleus(s->order, n, s->probs, cfg->top_k, cfg->top_p);
    float mass = 0;
    for (int i = 0; i < keep; i++) mass += s->probs[s->order[i]];
    *mass_out = mass;
    return keep;
}

int sampler_sample(Sampler *s, const SamplerConfig *cfg, float *logits, const int32_t *recent,
                   int n_recent, const uint8_t *mask, float coin, float *prob_out) {
    int best;
    float mass;
    int keep = distribution(s, cfg, logits, recent, n_recent, mask, &best, &mass);
    if (keep == 0) {
        if (prob_out) *prob_out = 1.0f;
        return best;
    }
    float r = coin * mass, acc = 0;
    int chosen = s->order[keep - 1];
    for (int i = 0; i < keep; i++) {
        acc += s->probs[s->order[i]];
        if (r < acc) {
            chosen = s->order[i];
            break;
        }
    }
    if (prob_out) *prob_out = s->probs[chosen] / mass;
    return chosen;
}

float sampler_prob(Sampler *s, const SamplerConfig *cfg, float *logits, const int32_t *recent, int n_recent,
                   const uint8_t *mask, int id) {
    int best;
    float mass;
    int keep = distribution(s, cfg, logits, recent, n_recent, mask, &best, &mass);
    if (keep == 0) return id == best ? 1.0f : 0.0f;
    for (int i = 0; i < keep; i++)
        if (s->order[i] == id) return s->probs[id] / mass;
    return 0.0f;
}

float log_softmax_at(const float *logits, int V, int id, float *scratch) {
    return logits[id] - log_sum_exp(logits, V, scratch);
}
