/* sampler: repetition penalty, mask, temperature, top-k, top-p, then one draw. */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void sampler_build(Sampler *s, int vocab_size) {
    s->vocab_size = vocab_size;
    s->probs = xmalloc((size_t)vocab_size * sizeof(float));
    s->order = xmalloc((size_t)vocab_size * sizeof(int32_t));
}

void sampler_free(Sampler *s) {
    free(s->probs);
    free(s->order);
    memset(s, 0, sizeof *s);
}

static const float *sort_probs; /* qsort has no context argument; sampling is single-threaded */
static int by_prob_desc(const void *a, const void *b) {
    float pa = sort_probs[*(const int32_t *)a], pb = sort_probs[*(const int32_t *)b];
    if (pa != pb) return pa < pb ? 1 : -1;
    return *(const int32_t *)a - *(const int32_t *)b; /* ties: smaller id first, deterministic */
}

int sampler_sample(Sampler *s, const SamplerConfig *cfg, float *logits, const int32_t *recent,
                   int n_recent, const uint8_t *mask, float coin, float *prob_out) {
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
    if (cfg->temperature <= 0 || !isfinite(logits[best])) {
        if (prob_out) *prob_out = 1.0f;
        return best;
    }
    /* Softmax with temperature. */
    float sum = 0, inv_t = 1.0f / cfg->temperature;
    for (int v = 0; v < V; v++) sum += (s->probs[v] = expf((logits[v] - logits[best]) * inv_t));
    for (int v = 0; v < V; v++) s->probs[v] /= sum;
    /* Candidates in order of probability; only the kept prefix matters. With top-p, a
       token below (1 - p) / (V - 1) cannot be in the nucleus (llama2.c's argument), so
       only the few above that cutoff are sorted. */
    float cutoff = (cfg->top_p > 0 && cfg->top_p < 1) ? (1 - cfg->top_p) / (V - 1) : 0;
    int n = 0;
    for (int v = 0; v < V; v++)
        if (s->probs[v] > 0 && s->probs[v] >= cutoff) s->order[n++] = v;
    if (n == 0) s->order[n++] = best;
    sort_probs = s->probs;
    qsort(s->order, n, sizeof(int32_t), by_prob_desc);
    int keep = n;
    if (cfg->top_k > 0 && cfg->top_k < keep) keep = cfg->top_k;
    float mass = 0;
    if (cfg->top_p > 0 && cfg->top_p < 1) {
        for (int i = 0; i < keep; i++) {
            mass += s->probs[s->order[i]];
            if (mass >= cfg->top_p) { keep = i + 1; break; }
        }
    }
    mass = 0;
    for (int i = 0; i < keep; i++) mass += s->probs[s->order[i]];
    float r = coin * mass, acc = 0;
    int chosen = s->order[keep - 1];
    for (int i = 0; i < keep; i++) {
        acc += s->probs[s->order[i]];
        if (r < acc) { chosen = s->order[i]; break; }
    }
    if (prob_out) *prob_out = s->probs[chosen] / mass;
    return chosen;
}
