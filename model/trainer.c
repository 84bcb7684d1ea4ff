/* trainer: batches from the stream, the step, the schedule, resume, evaluation. */
#include "trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TAG_TRNP CKPT_TAG('T', 'R', 'N', 'P')

int trainer_build(Trainer *tr, Model *m, const TrainConfig *cfg, const int32_t *tokens, size_t n) {
    memset(tr, 0, sizeof *tr);
    tr->cfg = *cfg;
    tr->model = m;
    tr->tokens = tokens;
    tr->shard_len = n / (size_t)cfg->batch;
    if (tr->shard_len < (size_t)cfg->seq + 1) {
        err_set("the corpus is too small: %zu tokens for batch %d x sequence %d", n, cfg->batch, cfg->seq);
        return -1;
    }
    adam_build(&tr->adam, m->num_params);
    tr->adam.weight_decay = cfg->weight_decay;
    acts_build(&tr->acts, &m->config, cfg->batch, cfg->seq);
    state_build(&tr->state, &m->config, cfg->batch);
    tr->inputs = xmalloc((size_t)cfg->batch * cfg->seq * sizeof(int32_t));
    tr->targets = xmalloc((size_t)cfg->batch * cfg->seq * sizeof(int32_t));
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

/* Fills inputs/targets from each shard at pos; starts a new epoch (and a zero state) when
   the shards are used up. */
static void next_batch(Trainer *tr) {
    int B = tr->cfg.batch, T = tr->cfg.seq;
    if (tr->pos + (size_t)T + 1 > tr->shard_len) {
        tr->pos = 0;
        tr->epoch++;
        state_zero(&tr->state, &tr->model->config);
    }
    for (int b = 0; b < B; b++) {
        const int32_t *src = tr->tokens + (size_t)b * tr->shard_len + tr->pos;
        memcpy(tr->inputs + (size_t)b * T, src, T * sizeof(int32_t));
        memcpy(tr->targets + (size_t)b * T, src + 1, T * sizeof(int32_t));
    }
    tr->pos += (size_t)T;
}

float trainer_step(Trainer *tr) {
    Model *m = tr->model;
    next_batch(tr);
    lstm_forward(m, &tr->acts, tr->inputs, tr->cfg.batch, tr->cfg.seq, &tr->state);
    int count;
    float loss = xent_forward(m, &tr->acts, tr->targets, &count);
    model_zero_grad(m);
    xent_backward(m, &tr->acts, tr->targets, 1.0f / (float)count);
    lstm_backward(m, &tr->acts, tr->inputs);
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

void ckpt_put_trainer(Buf *b, const Trainer *tr) {
    const Config *c = &tr->model->config;
    TrainPos p;
    memset(&p, 0, sizeof p); /* padding bytes too: the file must not carry garbage */
    p.cfg = tr->cfg, p.step = tr->step, p.epoch = tr->epoch, p.pos = tr->pos, p.shard_len = tr->shard_len;
    size_t ns = (size_t)c->num_layers * tr->cfg.batch * c->hidden_dim;
    Buf s = {0};
    buf_put(&s, &p, sizeof p);
    buf_put(&s, tr->state.h, ns * sizeof(float));
    buf_put(&s, tr->state.c, ns * sizeof(float));
    ckpt_put(b, TAG_TRNP, s.data, s.len);
    buf_free(&s);
    ckpt_put_adam(b, &tr->adam);
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
    memcpy(tr->state.h, p + sizeof pos, ns * sizeof(float));
    memcpy(tr->state.c, p + sizeof pos + ns * sizeof(float), ns * sizeof(float));
    return 0;
}

/* ---- evaluation ---- */

double evaluate_stream(const Model *m, const int32_t *tokens, size_t n, int B, int T, size_t *count) {
    size_t shard = n / (size_t)B;
    if (shard < 2) { /* tiny input: one stream */
        B = 1;
        shard = n;
    }
    Acts a;
    LstmState s;
    acts_build(&a, &m->config, B, T);
    state_build(&s, &m->config, B);
    int32_t *in = xmalloc((size_t)B * T * sizeof(int32_t)), *tg = xmalloc((size_t)B * T * sizeof(int32_t));
    double total = 0;
    size_t counted = 0;
    for (size_t pos = 0; pos + 1 < shard; pos += (size_t)T) {
        int t_here = (int)((shard - 1 - pos) < (size_t)T ? shard - 1 - pos : (size_t)T);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < t_here; t++) {
                in[b * t_here + t] = tokens[(size_t)b * shard + pos + t];
                tg[b * t_here + t] = tokens[(size_t)b * shard + pos + t + 1];
            }
        lstm_forward(m, &a, in, B, t_here, &s);
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
