/* trainer: batches from the stream, the step, the schedule, resume, evaluation. */
#include "trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distributed.h"

#define TAG_TRNP CKPT_TAG('T', 'R', 'N', 'P')

int trainer_build(Trainer *tr, Model *m, const TrainConfig *cfg, const int32_t *tokens, size_t n) {
    return trainer_build_shard(tr, m, cfg, tokens, 4, n, 0, 1);
}

int trainer_build_shard(Trainer *tr, Model *m, const TrainConfig *cfg, const void *tokens, int width,
                        size_t n, int rank, int world) {
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    tr->model = m;
    tr->tokens = tokens;
    tr->width = width;
    tr->rank = rank;
    tr->world = world;
    tr->first = dist_share_begin(cfg->batch, rank, world);
    tr->local = dist_share_begin(cfg->batch, rank + 1, world) - tr->first;
    tr->shard_len = n / (size_t)cfg->batch;
    if (tr->local < 1) {
        err_set("--batch %d is smaller than the %d ranks: each rank needs a stream", cfg->batch, world);
        return -1;
    }
    if (tr->shard_len < (size_t)cfg->seq + 1) {
        err_set("the corpus is too small: %zu tokens for batch %d x sequence %d", n, cfg->batch, cfg->seq);
        return -1;
    }
    adam_build(&tr->adam, m->num_params);
    tr->adam.weight_decay = cfg->weight_decay;
    acts_build(&tr->acts, &m->config, tr->local, cfg->seq);
    state_build(&tr->state, &m->config, tr->local);
    tr->inputs = xmalloc((size_t)tr->local * cfg->seq * sizeof(int32_t));
    tr->targets = xmalloc((size_t)tr->local * cfg->seq * sizeof(int32_t));
    return 0;
}

void trainer_free(Trainer *tr) {
    adam_free(&tr->adam);
    acts_free(&tr->acts);
    state_free(&tr->state);
    free(tr->inputs);
    free(tr->targets);
    memset(tr, 0, sizeof *tr);
}

int64_t trainer_steps_per_epoch(const Trainer *tr) {
    return (int64_t)((tr->shard_len - 1) / (size_t)tr->cfg.seq);
}

float trainer_lr(const Trainer *tr) {
    const TrainConfig *c = &tr->cfg;
    if (tr->step < c->warmup) return c->lr * (float)(tr->step + 1) / (float)c->warmup;
    double span = (double)(c->total_steps - c->warmup);
    double progress = span > 0 ? (double)(tr->step - c->warmup) / span : 1.0;
    if (progress > 1) progress = 1;
    double cosine = 0.5 * (1 + cos(M_PI * progress));
    return c->lr * (float)(c->lr_min_frac + (1 - c->lr_min_frac) * cosine);
}

/* Fills inputs/targets from each of this rank's shards at pos; starts a new epoch (and a
   zero state) when the shards are used up. */
static void next_batch(Trainer *tr) {
    int T = tr->cfg.seq;
    if (tr->pos + (size_t)T + 1 > tr->shard_len) {
        tr->pos = 0;
        tr->epoch++;
        state_zero(&tr->state, &tr->model->config);
    }
    for (int b = 0; b < tr->local; b++) {
        size_t at = (size_t)(tr->first + b) * tr->shard_len + tr->pos;
        int32_t *in = tr->inputs + (size_t)b * T, *tg = tr->targets + (size_t)b * T;
        if (tr->width == 4) {
            const int32_t *src = (const int32_t *)tr->tokens + at;
            memcpy(in, src, T * sizeof(int32_t));
            memcpy(tg, src + 1, T * sizeof(int32_t));
        } else { /* a memory-mapped uint16 stream */
            const uint16_t *src = (const uint16_t *)tr->tokens + at;
            for (int t = 0; t < T; t++) in[t] = src[t], tg[t] = src[t + 1];
        }
    }
    tr->pos += (size_t)T;
}

float trainer_step(Trainer *tr) {
    Model *m = tr->model;
    next_batch(tr);
    lstm_forward(m, &tr->acts, tr->inputs, tr->local, tr->cfg.seq, &tr->state);
    int count;
    float loss = xent_forward(m, &tr->acts, tr->targets, &count);
    /* The whole batch's mean over the ranks (alone, the sums are this rank's): sums of
       token losses and counts, not a mean of means, so N ranks follow one process's curve.
       A rank's non-finite loss makes the sum non-finite everywhere, and so does a
       non-finite gradient after the allreduce: adam_step then skips the step on every
       rank together. */
    double sums[2] = {(double)loss * count, (double)count};
    dist_allreduce_sum_f64(sums, 2);
    loss = (float)(sums[0] / sums[1]);
    model_zero_grad(m);
    xent_backward(m, &tr->acts, tr->targets, 1.0f / (float)sums[1]);
    lstm_backward(m, &tr->acts, tr->inputs);
    dist_allreduce_sum(m->grad_block, m->num_params); /* one block, in place */
    float lr = trainer_lr(tr);
    adam_step(&tr->adam, m->param_block, m->grad_block, lr, tr->cfg.clip, loss, &tr->last_norm);
    tr->step++;
    return loss;
}

/* ---- resume ---- */

typedef struct {
    TrainConfig cfg;
    int64_t step, epoch;
    uint64_t pos, shard_len;
} TrainPos;

/* Rank 0 gets the carried state of all B streams in h and c, (L, B, H) each; the other
   ranks send theirs (h and c unused). */
static void gather_state(const Trainer *tr, float *h, float *c) {
    const Config *cf = &tr->model->config;
    int L = cf->num_layers, H = cf->hidden_dim, B = tr->cfg.batch, N = tr->world;
    size_t ns = (size_t)L * B * H;
    int *counts = xmalloc((size_t)N * sizeof(int));
    for (int r = 0; r < N; r++) counts[r] = L * (dist_share_begin(B, r + 1, N) - dist_share_begin(B, r, N)) * H;
    float *all = tr->rank == 0 ? xmalloc(ns * sizeof(float)) : NULL;
    for (int k = 0; k < 2; k++) {
        dist_gather(k ? tr->state.c : tr->state.h, all, counts);
        if (tr->rank != 0) continue;
        const float *src = all; /* (rank, L, B_r, H): reorder to (L, B, H) */
        for (int r = 0; r < N; r++) {
            int b0 = dist_share_begin(B, r, N), br = dist_share_begin(B, r + 1, N) - b0;
            for (int l = 0; l < L; l++, src += (size_t)br * H)
                memcpy((k ? c : h) + ((size_t)l * B + b0) * H, src, (size_t)br * H * sizeof(float));
        }
    }
    free(all);
    free(counts);
}

void ckpt_put_trainer(Buf *b, const Trainer *tr) {
    const Config *c = &tr->model->config;
    size_t ns = (size_t)c->num_layers * tr->cfg.batch * c->hidden_dim;
    float *h = NULL, *cs = NULL;
    if (tr->rank == 0) h = xmalloc(ns * sizeof(float)), cs = xmalloc(ns * sizeof(float));
    gather_state(tr, h, cs);
    if (tr->rank == 0 && b) {
        TrainPos p;
        memset(&p, 0, sizeof p); /* padding bytes too: the file must not carry garbage */
        p.cfg = tr->cfg, p.step = tr->step, p.epoch = tr->epoch, p.pos = tr->pos, p.shard_len = tr->shard_len;
        Buf s = {0};
        buf_put(&s, &p, sizeof p);
        buf_put(&s, h, ns * sizeof(float));
        buf_put(&s, cs, ns * sizeof(float));
        ckpt_put(b, TAG_TRNP, s.data, s.len);
        buf_free(&s);
        ckpt_put_adam(b, &tr->adam);
    }
    free(h);
    free(cs);
}

int ckpt_get_trainer(const CkptFile *f, Trainer *tr) {
    const Config *c = &tr->model->config;
    size_t len, ns = (size_t)c->num_layers * tr->cfg.batch * c->hidden_dim;
    const uint8_t *p = ckpt_find(f, TAG_TRNP, &len);
    TrainPos pos;
    if (!p || len != sizeof pos + 2 * ns * sizeof(float)) {
        err_set("%s: no training position for this batch size (resume with the same --batch)", f->path);
        return -1;
    }
    memcpy(&pos, p, sizeof pos);
    if (pos.shard_len != tr->shard_len || pos.cfg.seq != tr->cfg.seq) {
        err_set("%s: was trained on a different corpus or sequence length; cannot resume exactly", f->path);
        return -1;
    }
    if (ckpt_get_adam(f, &tr->adam) != 0) return -1;
    tr->cfg = pos.cfg;
    tr->step = pos.step;
    tr->epoch = pos.epoch;
    tr->pos = (size_t)pos.pos;
    /* The file holds all B streams, (L, B, H); this rank keeps its own. */
    size_t H = (size_t)c->hidden_dim, row = (size_t)tr->local * H * sizeof(float);
    for (int k = 0; k < 2; k++) {
        const uint8_t *all = p + sizeof pos + k * ns * sizeof(float);
        float *mine = k ? tr->state.c : tr->state.h;
        for (int l = 0; l < c->num_layers; l++)
            memcpy(mine + l * tr->local * H, all + ((size_t)l * tr->cfg.batch + tr->first) * H * sizeof(float), row);
    }
    return 0;
}

/* ---- evaluation ---- */

double nats_to_bits_per_byte(double nats, size_t bytes) { return nats / log(2) / (double)bytes; }

double evaluate_stream(const Model *m, const int32_t *tokens, size_t n, int B, int T, size_t *count) {
    return evaluate_shard(m, tokens, n, B, T, 0, B, count);
}

double evaluate_shard(const Model *m, const int32_t *tokens, size_t n, int B, int T, int first, int nb,
                      size_t *count) {
    size_t shard = n / (size_t)B;
    if (shard < 2) { /* tiny input: one stream, for whoever has the first */
        nb = first == 0 && nb > 0;
        first = 0;
        B = 1;
        shard = n;
    }
    if (count) *count = 0;
    if (nb < 1) return 0;
    Acts a;
    LstmState s;
    acts_build(&a, &m->config, nb, T);
    state_build(&s, &m->config, nb);
    int32_t *in = xmalloc((size_t)nb * T * sizeof(int32_t)), *tg = xmalloc((size_t)nb * T * sizeof(int32_t));
    double total = 0;
    size_t counted = 0;
    for (size_t pos = 0; pos + 1 < shard; pos += (size_t)T) {
        int t_here = (int)((shard - 1 - pos) < (size_t)T ? shard - 1 - pos : (size_t)T);
        for (int b = 0; b < nb; b++)
            for (int t = 0; t < t_here; t++) {
                in[b * t_here + t] = tokens[(size_t)(first + b) * shard + pos + t];
                tg[b * t_here + t] = tokens[(size_t)(first + b) * shard + pos + t + 1];
            }
        lstm_forward(m, &a, in, nb, t_here, &s);
        int c;
        float mean = xent_forward(m, &a, tg, &c);
        total += (double)mean * c;
        counted += (size_t)c;
    }
    free(in);
    free(tg);
    state_free(&s);
    acts_free(&a);
    if (count) *count = counted;
    return total;
}
