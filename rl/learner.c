/* learner: the rating update (REINFORCE with baseline, KL to the base model, entropy
   bonus, PPO-clipped replay), the preference update (DPO), the value head, undo and
   rollback. See learner.h for the loss; episode.c has the passes over one episode. */
#include "learner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/parallel.h"

#define REPLAY_CAP 32
#define TAG_LRNR CKPT_TAG('L', 'R', 'N', 'R')

/* Everything an update changes, so it can be undone bit for bit. */
typedef struct {
    float *params, *v;        /* (num_params) each: the weights and Adam's second moment (the
                                 learner's Adam has no first moment, see without_momentum) */
    int64_t adam_step, adam_skipped;
    float beta, beta_set;
    double baseline;
    float *value_w;           /* (H + 1) */
    int64_t updates;
    Rng rng;                  /* the generator that picks replays */
    int replay_head, replay_count;
    int staged;               /* 1 if the update put its episode in the replay buffer ... */
    Episode evicted;          /* ... and what that slot held before, moved here (empty when
                                 the slot was free) */
} Snapshot;

struct Learner {
    LearnerConfig cfg;
    Model *policy;            /* updated in place, not owned */
    const Model *ref;         /* frozen base, not owned */
    Adam adam;                /* rating-update optimizer */
    PassScratch scratch;             /* every pass over an episode */
    float beta;               /* current KL weight (adapts) */
    float beta_set;           /* cfg.kl_beta when beta was last set from it */
    double baseline;          /* running mean of rewards (EMA) */
    float *value_w;           /* (H + 1): value head weights and bias on the top-layer h */
    Snapshot *undo;           /* ring of undo_depth + 1 snapshots: the undo_count before
                                 undo_head can be undone; undo_head takes the next update's */
    int undo_depth, undo_head, undo_count;
    Episode replay[REPLAY_CAP];
    int replay_head, replay_count;
    Rng rng;
    int64_t updates;
};

/* ---- configuration ---- */

/* The defaults were chosen with `rlchat simulate` on its tuning raters, each against the
   others by ratings to the target, drift and variety; the runs and the settings not kept
   are in docs/experiments.md ("How the defaults were reached"). */
LearnerConfig learner_default_config(void) {
    LearnerConfig c = {.algo = ALGO_FULL, .lr = 7e-4f, .clip = 1.0f, .kl_beta = 0.1f, .kl_target = 0.15f,
                       .entropy = 0.06f, .replay = 2, .self_imitation = 1, .imitate_above = 1.0f,
                       .replay_tokens = 96, .ppo_eps = 0.2f, .dpo_beta = 0.5f,
                       .critic_lr = 0.02f, .candidates = 0, .candidate_weight = 1.0f,
                       .undo_depth = 4};
    return c;
}

static const char *ALGO_NAMES[] = {"reinforce", "baseline", "actor-critic", "full"};

const char *algo_name(Algo a) { return a >= 0 && a <= ALGO_FULL ? ALGO_NAMES[a] : "?"; }

int algo_from_name(const char *name, Algo *out) {
    for (int i = 0; i <= ALGO_FULL; i++)
        if (!strcmp(name, ALGO_NAMES[i])) {
            *out = (Algo)i;
            return 0;
        }
    err_set("unknown algorithm '%s' (reinforce, baseline, actor-critic, full)", name);
    return -1;
}

/* Allocated and touched up front, so no update pays for page faults. */
static void snapshot_build(Snapshot *s, size_t n, size_t nv) {
    s->params = xzalloc(n * sizeof(float));
    s->v = xzalloc(n * sizeof(float));
    s->value_w = xcalloc(nv, sizeof(float));
}

/* ---- building ---- */

/* No momentum: each rating's update moves the way that rating says. With beta1 = 0.9 a
   step still carries the gradients of the ratings before, so a positive rating after a
   run of negative ones can still lower its reply's probability; the second moment still
   scales the steps. The first moment is then never read, so the undo snapshots keep no
   copy of it, and a loaded profile gets the same setting (its Adam section carries a
   beta1 of its own). The step also leaves the gradient block zeroed for the next update. */
static void without_momentum(Adam *a) {
    a->beta1 = 0.0f;
    a->clear_grad = 1;
}

Learner *learner_new(Model *policy, const Model *reference, const LearnerConfig *cfg) {
    Learner *l = xcalloc(1, sizeof *l);
    const Config *c = &policy->config;
    /* An update splits its work between the cores itself (run_jobs), so OpenBLAS's own
       threads would only contend with the other part (docs/performance.md, "Where a
       rating's update spent its time"). */
    parallel_blas_serial();
    l->cfg = *cfg;
    l->policy = policy;
    l->ref = reference;
    adam_build(&l->adam, policy->num_params);
    without_momentum(&l->adam);
    pass_build(&l->scratch, policy, reference);
    l->beta = l->beta_set = cfg->kl_beta;
    l->value_w = xcalloc((size_t)c->hidden_dim + 1, sizeof(float));
    l->undo_depth = cfg->undo_depth > 0 ? cfg->undo_depth : 1;
    l->undo = xcalloc((size_t)l->undo_depth + 1, sizeof(Snapshot));
    for (int i = 0; i <= l->undo_depth; i++)
        snapshot_build(&l->undo[i], policy->num_params, (size_t)c->hidden_dim + 1);
    rng_seed(&l->rng, 12345);
    return l;
}

void learner_free(Learner *l) {
    if (!l) return;
    adam_free(&l->adam);
    pass_free(&l->scratch);
    free(l->value_w);
    for (int i = 0; i <= l->undo_depth; i++) {
        free(l->undo[i].params), free(l->undo[i].v), free(l->undo[i].value_w);
        episode_free(&l->undo[i].evicted);
    }
    free(l->undo);
    for (int i = 0; i < REPLAY_CAP; i++) episode_free(&l->replay[i]);
    free(l);
}

LearnerConfig *learner_config(Learner *l) { return &l->cfg; }
int64_t learner_updates(const Learner *l) { return l->updates; }
int learner_undo_available(const Learner *l) { return l->undo_count; }

/* ---- snapshots: undo and rollback ---- */

/* Undo reaches back undo_depth ratings and preferences. A safety penalty takes no place in
   that reach: it can only be undone with the rating or preference before it, whose
   snapshot returns the state to before both. Its snapshot, for a rollback, goes to the
   ring's spare slot, so blocked samples never push a rating out of undo's reach. */

static void snapshot_take(Learner *l, Snapshot *s) {
    size_t n = l->policy->num_params, nv = (size_t)l->policy->config.hidden_dim + 1;
    parallel_copy(s->params, l->policy->param_block, n);
    parallel_copy(s->v, l->adam.v, n);
    memcpy(s->value_w, l->value_w, nv * sizeof(float));
    s->adam_step = l->adam.step, s->adam_skipped = l->adam.skipped;
    s->beta = l->beta, s->beta_set = l->beta_set, s->baseline = l->baseline, s->updates = l->updates;
    s->rng = l->rng;
    s->replay_head = l->replay_head, s->replay_count = l->replay_count;
    s->staged = 0;
    episode_free(&s->evicted); /* the slot's last update is out of undo's reach */
}

/* The episode the update staged leaves the replay buffer, and the one it displaced
   returns to its slot. */
static void snapshot_restore(Learner *l, Snapshot *s) {
    size_t n = l->policy->num_params, nv = (size_t)l->policy->config.hidden_dim + 1;
    parallel_copy(l->policy->param_block, s->params, n);
    l->policy->version++;
    parallel_copy(l->adam.v, s->v, n);
    memcpy(l->value_w, s->value_w, nv * sizeof(float));
    l->adam.step = s->adam_step, l->adam.skipped = s->adam_skipped;
    l->beta = s->beta, l->beta_set = s->beta_set, l->baseline = s->baseline, l->updates = s->updates;
    l->rng = s->rng;
    if (s->staged) {
        Episode *slot = &l->replay[s->replay_head];
        episode_free(slot);
        *slot = s->evicted;
        memset(&s->evicted, 0, sizeof s->evicted);
        s->staged = 0;
    }
    l->replay_head = s->replay_head, l->replay_count = s->replay_count;
}

/* Saves the state before an update into the ring's free slot and returns it. */
static Snapshot *take_snapshot(Learner *l) {
    Snapshot *s = &l->undo[l->undo_head];
    snapshot_take(l, s);
    return s;
}

/* An undoable update succeeded: its snapshot joins the ring, the oldest leaving undo's
   reach when the ring is full (its slot becomes the free one). */
static void keep_snapshot(Learner *l) {
    l->undo_head = (l->undo_head + 1) % (l->undo_depth + 1);
    if (l->undo_count < l->undo_depth) l->undo_count++;
}

int learner_undo(Learner *l) {
    if (l->undo_count == 0) {
        err_set("nothing to undo");
        return -1;
    }
    l->undo_head = (l->undo_head + l->undo_depth) % (l->undo_depth + 1);
    l->undo_count--;
    snapshot_restore(l, &l->undo[l->undo_head]);
    return 0;
}

/* ---- what undo must restore, as checksums ---- */

static uint32_t crc_episode(uint32_t crc, const Episode *e, const Config *c) {
    size_t nh = (size_t)c->num_layers * c->hidden_dim;
    crc = crc32_update(crc, &e->n, sizeof e->n);
    crc = crc32_update(crc, &e->cut, sizeof e->cut);
    crc = crc32_update(crc, &e->reward, sizeof e->reward);
    crc = crc32_update(crc, e->tokens, (size_t)e->n * sizeof(int32_t));
    crc = crc32_update(crc, e->ctx_h, nh * sizeof(float));
    crc = crc32_update(crc, e->ctx_c, nh * sizeof(float));
    if (e->behaviour_lp) crc = crc32_update(crc, e->behaviour_lp, (size_t)(e->n + 1) * sizeof(float));
    if (e->ref_logp) crc = crc32_update(crc, e->ref_logp, (size_t)(e->n + 1) * c->vocab_size * sizeof(float));
    return crc;
}

void learner_digest(const Learner *l, LearnerDigest *d) {
    const Config *c = &l->policy->config;
    size_t n = l->policy->num_params;
    d->weights = crc32_update(0, l->policy->param_block, n * sizeof(float));
    d->optimizer = crc32_update(0, l->adam.v, n * sizeof(float));
    d->optimizer = crc32_update(d->optimizer, &l->adam.step, sizeof l->adam.step);
    d->optimizer = crc32_update(d->optimizer, &l->adam.skipped, sizeof l->adam.skipped);
    d->critic = crc32_update(0, l->value_w, ((size_t)c->hidden_dim + 1) * sizeof(float));
    d->critic = crc32_update(d->critic, &l->baseline, sizeof l->baseline);
    d->critic = crc32_update(d->critic, &l->beta, sizeof l->beta);
    d->critic = crc32_update(d->critic, &l->beta_set, sizeof l->beta_set);
    d->critic = crc32_update(d->critic, &l->updates, sizeof l->updates);
    d->rng = crc32_update(0, &l->rng, sizeof l->rng);
    d->replay = crc32_update(0, &l->replay_count, sizeof l->replay_count);
    for (int back = 1; back <= l->replay_count; back++)
        d->replay = crc_episode(d->replay, &l->replay[(l->replay_head + REPLAY_CAP - back) % REPLAY_CAP], c);
    d->undoable = l->undo_count;
}

/* ---- an update's episodes ---- */

/* A job for e: the update's weights (base) with this advantage and policy term. */
static EpisodeJob job(const Episode *e, const EpisodeWeights *base, float advantage, int ppo) {
    EpisodeJob j = {.e = e, .w = *base};
    j.w.advantage = advantage, j.w.ppo = ppo;
    return j;
}

typedef struct {
    PassScratch *scratch;
    EpisodeJob **order; /* the jobs, longest first */
    int n;
} JobList;

/* One part of parallel_team: the jobs in batches as large as fit, each longest first as a
   packed batch needs. */
static void run_part(void *ctx, int part, int parts) {
    JobList *jl = ctx;
    for (int i = 0, k; i < jl->n; i += k) {
        int rows = episode_steps(jl->order[i]->e);
        for (k = 1; i + k < jl->n && pass_batch_fits(k + 1, rows + episode_steps(jl->order[i + k]->e)); k++)
            rows += episode_steps(jl->order[i + k]->e);
        pass_backward(jl->scratch, jl->order + i, k, part, parts);
    }
}

/* Backpropagates the jobs into the policy's gradient block, as one batch split between
   the cores. A job that needs the base model's log-probabilities and lacks them (a
   penalised sample, a caller's candidate) runs on a copy that has them. One pass over all
   the update's rows, because every pass pays for packing and reading every weight matrix
   whatever its rows (docs/performance.md, "How it is fast"). A job with no steps (a reply
   stopped before its first token) has nothing to learn and keeps its zero terms. */
static void run_jobs(Learner *l, EpisodeJob *jobs, int n) {
    Episode *filled = xcalloc((size_t)n, sizeof *filled);
    EpisodeJob **order = xmalloc((size_t)n * sizeof *order);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (episode_steps(jobs[i].e) == 0) continue;
        if (weights_need_ref(&jobs[i].w) && !jobs[i].e->ref_logp) {
            episode_copy(&filled[i], jobs[i].e, &l->policy->config);
            pass_fill_ref(&l->scratch, &filled[i]);
            jobs[i].e = &filled[i];
        }
        int k = m++;
        for (; k > 0 && episode_steps(order[k - 1]->e) < episode_steps(jobs[i].e); k--) order[k] = order[k - 1];
        order[k] = &jobs[i];
    }
    JobList jl = {&l->scratch, order, m};
    parallel_team(run_part, &jl);
    for (int i = 0; i < n; i++) episode_free(&filled[i]);
    free(filled);
    free(order);
}

/* ---- one episode ---- */

void learner_fill_ref(Learner *l, Episode *e) { pass_fill_ref(&l->scratch, e); }

float learner_logprob(Learner *l, const Episode *e, float *mean_kl) { return pass_logprob(&l->scratch, e, mean_kl); }

float learner_ref_logprob(Learner *l, const Episode *e) { return pass_ref_logprob(&l->scratch, e); }

float learner_ref_logprob_sum(Learner *l, const Episode *e) { return pass_ref_logprob_sum(&l->scratch, e); }

float learner_mean_log_ratio(Learner *l, const Episode *e, const float *logp) {
    int T = episode_steps(e);
    if (T == 0) return 0;
    double sum = 0;
    for (int t = 0; t < T; t++) sum += logp[t];
    return (float)((sum - learner_ref_logprob_sum(l, e)) / T);
}

/* An episode's weights in this learner's loss with the given KL and entropy weights, and
   REINFORCE's policy term with this advantage (job() sets them for an update's episodes). */
static EpisodeWeights episode_weights(const Learner *l, float advantage, float beta, float eta) {
    EpisodeWeights w = {.advantage = advantage, .beta = beta, .eta = eta, .entropy_floor = l->cfg.entropy_floor,
                        .ppo_eps = l->cfg.ppo_eps};
    return w;
}

double learner_episode_loss(Learner *l, const Episode *e, float advantage, float beta, float eta) {
    EpisodeWeights w = episode_weights(l, advantage, beta, eta);
    return pass_loss(&l->scratch, e, &w);
}

/* Leaves the gradient in the block: callers zero it before the next update. */
void learner_episode_gradient(Learner *l, const Episode *e, float advantage, float beta, float eta) {
    learner_batch_gradient(l, &e, &advantage, 1, beta, eta);
}

void learner_batch_gradient(Learner *l, const Episode *const *es, const float *advantages, int n, float beta,
                            float eta) {
    EpisodeWeights base = episode_weights(l, 0, beta, eta);
    EpisodeJob *jobs = xmalloc((size_t)n * sizeof *jobs);
    for (int i = 0; i < n; i++) jobs[i] = job(es[i], &base, advantages[i], 0);
    run_jobs(l, jobs, n);
    free(jobs);
}

/* ---- the value head (critic): v = running mean + w . h_top + b, trained on observed rewards ---- */

/* The head learns what the context adds to the running mean of rewards, not the whole
   value: a head alone starts at 0 and, at a step small enough to be stable, lags the
   mean for tens of ratings, exactly the ratings that matter. `rlchat simulate --algo
   full` (5 seeds, checks every 5 ratings): with the head alone question, short, positive
   and topic:music reached the target in 20 / 20 / 15 / 50 ratings, within the bounds in
   20 / never / 90 / never; on the mean, in 15 / 15 / 20 / 35, within the bounds in
   20 / 25 / 30 / never. */
float learner_value(Learner *l, const float *ctx_h) {
    int H = l->policy->config.hidden_dim;
    const float *h = ctx_h + (size_t)(l->policy->config.num_layers - 1) * H;
    double v = l->baseline + l->value_w[H];
    for (int j = 0; j < H; j++) v += l->value_w[j] * h[j];
    return (float)v;
}

/* One normalised-LMS step on (R - v)^2 / 2: the step is divided by |h|^2 + 1, so it is
   stable for any critic_lr in (0, 2) whatever the width H (plain SGD with |h|^2 up to H
   diverges). The gradient stops at the head: the LSTM is the actor's. */
static void critic_step(Learner *l, const float *ctx_h, float reward) {
    int H = l->policy->config.hidden_dim;
    const float *h = ctx_h + (size_t)(l->policy->config.num_layers - 1) * H;
    double norm2 = 1;
    for (int j = 0; j < H; j++) norm2 += (double)h[j] * h[j];
    float err = learner_value(l, ctx_h) - reward, step = l->cfg.critic_lr * err / (float)norm2;
    for (int j = 0; j < H; j++) l->value_w[j] -= step * h[j];
    l->value_w[H] -= step;
}

/* ---- updates ---- */

/* Adam's eps, set before each step as a floor under the size of each weight's step: the
   per-weight RMS of a gradient at the clip norm, clip / sqrt(num_params) (a unit norm when
   nothing is clipped). Adam divides by sqrt(v-hat) + eps and v-hat is g^2 on a weight's first
   step, so with eps 1e-8 the first update was exactly lr sign(g) on every weight with any
   gradient, unlikely output rows as much as the relevant ones; with the floor a weight whose
   gradient is below it moves in proportion to the gradient, one above it by about lr, and v
   keeps the bias correction the trainer's Adam has. */
static float step_floor(const Learner *l) {
    float scale = l->cfg.clip > 0 ? l->cfg.clip : 1.0f;
    return scale / sqrtf((float)l->policy->num_params);
}

/* Adam step on the accumulated gradient; rolls the snapshot back if anything is not
   finite. Returns 0, or -1 after a rollback. Either way the gradient block is left zeroed. */
static int finish_update(Learner *l, float loss, UpdateStats *st) {
    l->adam.eps = step_floor(l);
    int took = adam_step(&l->adam, l->policy->param_block, l->policy->grad_block, l->cfg.lr, l->cfg.clip, loss,
                         &st->grad_norm);
    l->policy->version++;
    if (took && !l->adam.nonfinite) return 0;
    if (!took) model_zero_grad(l->policy); /* a refused step did not consume the gradient */
    snapshot_restore(l, &l->undo[l->undo_head]); /* the snapshot taken before this update */
    st->rolled_back = 1;
    err_set("update rolled back: loss or gradient not finite");
    return -1;
}

/* beta <- beta (1 + 0.1 e), e = clip(KL / target - 1, -0.2, 0.2) (Ziegler et al. 2019). */
static void adapt_beta(Learner *l, float mean_kl) {
    if (l->cfg.kl_target <= 0 || l->beta <= 0) return;
    float e = mean_kl / l->cfg.kl_target - 1;
    e = e < -0.2f ? -0.2f : e > 0.2f ? 0.2f : e;
    l->beta *= 1 + 0.1f * e;
    if (l->beta < 1e-4f) l->beta = 1e-4f;
}

/* The replay slot the current episode will occupy: a copy with the base model's
   log-probabilities cached, so later replays of it skip the base model's pass. It counts
   as remembered only once the update succeeds; what the slot held moves to the update's
   snapshot, for an undo or a rollback to put back. */
static Episode *stage_for_replay(Learner *l, const Episode *e, Snapshot *snap) {
    Episode *slot = &l->replay[l->replay_head];
    snap->evicted = *slot;
    snap->staged = 1;
    memset(slot, 0, sizeof *slot);
    episode_copy(slot, e, &l->policy->config);
    learner_fill_ref(l, slot);
    return slot;
}

static void remember_staged(Learner *l) {
    l->replay_head = (l->replay_head + 1) % REPLAY_CAP;
    if (l->replay_count < REPLAY_CAP) l->replay_count++;
}

/* The rated episodes before the staged one (when the ring is full, the staged slot held
   the oldest, which is gone), and the back-th most recent of them (back >= 1). */
static int older_count(const Learner *l) { return l->replay_count < REPLAY_CAP ? l->replay_count : REPLAY_CAP - 1; }

static const Episode *older_episode(const Learner *l, int back) {
    return &l->replay[(l->replay_head + REPLAY_CAP - back) % REPLAY_CAP];
}

/* One of them at random. */
static const Episode *pick_replay(Learner *l) {
    return older_episode(l, 1 + (int)(rng_u32(&l->rng) % (uint32_t)older_count(l)));
}

/* Self-imitation (Oh et al. 2018): one of them whose reward beat the critic's expectation
   for its context by more than cfg.imitate_above, drawn in proportion to by how much;
   *adv = R - V. NULL when none did. */
static const Episode *pick_self_imitation(Learner *l, float *adv) {
    int older = older_count(l);
    float above[REPLAY_CAP], total = 0;
    for (int back = 1; back <= older; back++) {
        const Episode *e = older_episode(l, back);
        float a = e->reward - learner_value(l, e->ctx_h);
        above[back - 1] = a > l->cfg.imitate_above ? a : 0;
        total += above[back - 1];
    }
    if (total <= 0) return NULL;
    float u = rng_float(&l->rng) * total;
    int back = older;
    for (int b = 1; b <= older; b++) {
        if (above[b - 1] > 0) back = b; /* the last positive one, should rounding leave u > 0 */
        if ((u -= above[b - 1]) <= 0 && above[b - 1] > 0) break;
    }
    *adv = above[back - 1];
    return older_episode(l, back);
}

/* The fraction of the reply's token bigrams that one of the last `recent` rated replies
   also holds. A policy that answers every message with the same few lines repeats most of
   them; the base model, talking about different things, repeats only common phrases. The
   reward is computed before the update stages the reply, so every older episode is rated. */
float learner_recent_overlap(const Learner *l, const int32_t *tokens, int n, int recent) {
    int older = older_count(l) < recent ? older_count(l) : recent, repeated = 0;
    if (n < 2 || older == 0) return 0;
    for (int i = 1; i < n; i++) {
        int found = 0;
        for (int back = 1; back <= older && !found; back++) {
            const Episode *e = older_episode(l, back);
            for (int j = 1; j < e->n && !found; j++)
                found = e->tokens[j - 1] == tokens[i - 1] && e->tokens[j] == tokens[i];
        }
        repeated += found;
    }
    return (float)repeated / (float)(n - 1);
}

/* The unrated candidates, leave-one-out (the baseline of each is the mean reward of the
   rest of its group, the rated reply included), while the update's tokens stay within
   budget. Appends their jobs; returns how many. */
static int plan_candidates(const Learner *l, const Episode *rated, const Episode *cands, int k, float trust,
                           const EpisodeWeights *base, int *tokens, EpisodeJob *out) {
    double group = rated->reward;
    for (int i = 0; i < k; i++) group += cands[i].reward;
    int n = 0;
    for (int i = 0; i < k; i++) {
        if (l->cfg.replay_tokens > 0 && *tokens + episode_steps(&cands[i]) > l->cfg.replay_tokens) break;
        *tokens += episode_steps(&cands[i]);
        float adv = trust * l->cfg.candidate_weight * (float)(cands[i].reward - (group - cands[i].reward) / k);
        out[n++] = job(&cands[i], base, adv, 0);
    }
    return n;
}

/* Replay, as long as the tokens stay within budget (the time of an update is about
   linear in them). First the self-imitation slots: past replies that did better than
   expected, pushed up again with their advantage and no ratio clip (the clip would stop
   at 1.2 times their sampled probability, which is what keeps a rare liked reply rare).
   Then older rated episodes at random, re-weighted by how much the policy moved since
   (PPO). Appends their jobs; returns how many. */
static int plan_replay(Learner *l, const EpisodeWeights *base, int *tokens, EpisodeJob *out) {
    int n = 0;
    for (int k = 0; k < l->cfg.replay && k < l->replay_count; k++) {
        float old_adv = 0;
        const Episode *old = k < l->cfg.self_imitation ? pick_self_imitation(l, &old_adv) : NULL;
        int ppo = !old;
        if (!old) old = pick_replay(l), old_adv = old->reward - learner_value(l, old->ctx_h);
        if (l->cfg.replay_tokens > 0 && *tokens + episode_steps(old) > l->cfg.replay_tokens) break;
        *tokens += episode_steps(old);
        out[n++] = job(old, base, old_adv, ppo);
    }
    return n;
}

/* The shared body of a rating update and a safety penalty: one policy-gradient step with
   the given advantage (plus KL and entropy), replay and the candidates when asked; the
   episode joins the replay buffer and trains the critic only when it is a rating. */
static int policy_step(Learner *l, const Episode *e_in, float adv, int is_rating, const Episode *cands,
                       int n_cands, float trust, UpdateStats *st) {
    double t0 = now_seconds();
    Algo algo = l->cfg.algo;
    if (l->cfg.kl_beta != l->beta_set) l->beta = l->beta_set = l->cfg.kl_beta; /* set by the user */
    float beta = algo == ALGO_REINFORCE ? 0 : l->beta, eta = algo == ALGO_REINFORCE ? 0 : l->cfg.entropy;
    st->advantage = adv;
    Snapshot *snap = take_snapshot(l);
    const Episode *e = is_rating ? stage_for_replay(l, e_in, snap) : e_in;
    int learn_more = algo == ALGO_FULL && is_rating, tokens = episode_steps(e), n = 0;
    EpisodeWeights base = episode_weights(l, 0, beta, eta);
    EpisodeJob *jobs = xmalloc((size_t)(1 + n_cands + REPLAY_CAP) * sizeof(EpisodeJob));
    jobs[n++] = job(e, &base, adv, algo == ALGO_FULL);
    if (learn_more && n_cands > 0 && trust > 0)
        st->candidates = plan_candidates(l, e, cands, n_cands, trust, &base, &tokens, jobs + n);
    n += st->candidates;
    if (learn_more) st->replayed = plan_replay(l, &base, &tokens, jobs + n);
    n += st->replayed;
    /* The gradient block is already zero: each Adam step clears it (adam.clear_grad). */
    run_jobs(l, jobs, n);
    EpisodeTerms terms = jobs[0].terms;
    st->logprob_before = terms.logprob;
    float ent_loss = l->cfg.entropy_floor ? terms.entropy_gap : -terms.entropy;
    float loss = -adv * terms.logprob + beta * terms.kl + eta * ent_loss;
    for (int i = 1; i < n; i++) loss += -jobs[i].w.advantage * jobs[i].terms.logprob;
    free(jobs);
    if (!isfinite(e->reward)) loss = NAN;
    st->loss = loss;
    if (finish_update(l, loss, st) != 0) {
        st->ms = (now_seconds() - t0) * 1e3;
        return -1;
    }
    int T = episode_steps(e) > 0 ? episode_steps(e) : 1;
    st->entropy = terms.entropy / T;
    st->kl = terms.kl / T; /* before the step: measured on the way, no extra pass */
    if (beta > 0) adapt_beta(l, st->kl);
    st->beta = l->beta;
    if (is_rating) {
        l->baseline += 0.1 * (e->reward - l->baseline);
        if (algo == ALGO_ACTOR_CRITIC || algo == ALGO_FULL) critic_step(l, e->ctx_h, e->reward);
        remember_staged(l);
        keep_snapshot(l); /* a penalty is undone only with the rating before it */
    }
    l->updates++;
    st->ms = (now_seconds() - t0) * 1e3;
    return 0;
}

int learner_update(Learner *l, const Episode *e, UpdateStats *st) { return learner_update_group(l, e, NULL, 0, 0, st); }

int learner_update_group(Learner *l, const Episode *e, const Episode *cands, int k, float trust, UpdateStats *st) {
    memset(st, 0, sizeof *st);
    Algo algo = l->cfg.algo;
    float baseline = 0;
    if (algo == ALGO_BASELINE) baseline = (float)l->baseline;
    if (algo == ALGO_ACTOR_CRITIC || algo == ALGO_FULL) baseline = learner_value(l, e->ctx_h);
    st->baseline = baseline;
    return policy_step(l, e, e->reward - baseline, 1, cands, k, trust, st);
}

/* A penalty is absolute: no baseline may explain it away (a critic would learn to expect
   it, and a model that always says the blocked thing would then stop being pushed). */
int learner_penalise(Learner *l, const Episode *e, UpdateStats *st) {
    memset(st, 0, sizeof *st);
    return policy_step(l, e, e->reward, 0, NULL, 0, 0, st);
}

/* log(1 + e^x) without overflow: logf(1 + expf(x)) is infinite past x = 88, and the update
   is then refused as not finite, exactly when the policy most disagrees with the preference. */
static float softplus(float x) { return log1pf(expf(-fabsf(x))) + fmaxf(x, 0); }

/* DPO (Rafailov et al. 2023): loss = -log sigmoid(b * ((lp_a - ref_a) - (lp_b - ref_b))). */
/* DPO on (chosen, rejected), plus `likelihood` times the chosen reply's log-likelihood
   when the user wrote it (learner_teach): one update, one undo entry. */
static int preference_step(Learner *l, const Episode *chosen, const Episode *rejected, float likelihood,
                           UpdateStats *st) {
    double t0 = now_seconds();
    memset(st, 0, sizeof *st);
    float ref_a = learner_ref_logprob_sum(l, chosen), ref_b = learner_ref_logprob_sum(l, rejected);
    float lp_a = learner_logprob(l, chosen, NULL), lp_b = learner_logprob(l, rejected, NULL);
    float b = l->cfg.dpo_beta, z = b * ((lp_a - ref_a) - (lp_b - ref_b));
    float sig_neg = 1.0f / (1.0f + expf(z)); /* sigmoid(-z); 0 or 1 where expf overflows, as it should */
    st->loss = softplus(-z) - likelihood * lp_a;
    st->advantage = b * sig_neg; /* the chosen reply's push; the rejected one gets its negative */
    st->logprob_before = lp_a;
    take_snapshot(l);
    /* d loss / d lp_a = -b sigmoid(-z): a REINFORCE-shaped step with advantage b sigmoid(-z). */
    EpisodeWeights base = episode_weights(l, 0, 0, 0);
    EpisodeJob jobs[2] = {job(chosen, &base, b * sig_neg + likelihood, 0), job(rejected, &base, -b * sig_neg, 0)};
    run_jobs(l, jobs, 2);
    if (finish_update(l, st->loss, st) != 0) {
        st->ms = (now_seconds() - t0) * 1e3;
        return -1;
    }
    keep_snapshot(l);
    l->updates++;
    st->ms = (now_seconds() - t0) * 1e3;
    return 0;
}

int learner_prefer(Learner *l, const Episode *chosen, const Episode *rejected, UpdateStats *st) {
    return preference_step(l, chosen, rejected, 0, st);
}

/* A reply the user wrote is what they want said: its likelihood is taught at the weight
   of a liked rating's advantage, beside the preference over the reply it replaces. */
#define TEACH_LIKELIHOOD 1.0f

int learner_teach(Learner *l, const Episode *written, const Episode *shown, UpdateStats *st) {
    return preference_step(l, written, shown, TEACH_LIKELIHOOD, st);
}

/* ---- persistence ---- */

void learner_save(const Learner *l, Buf *b) {
    int H = l->policy->config.hidden_dim;
    Buf s = {0};
    int64_t updates = l->updates;
    buf_put(&s, &updates, 8);
    buf_put(&s, &l->beta, 4);
    buf_put(&s, &l->baseline, 8);
    int32_t nh = H;
    buf_put(&s, &nh, 4);
    buf_put(&s, l->value_w, ((size_t)H + 1) * sizeof(float));
    ckpt_put(b, TAG_LRNR, s.data, s.len);
    buf_free(&s);
    ckpt_put_adam(b, &l->adam);
}

int learner_load(Learner *l, const CkptFile *f) {
    int H = l->policy->config.hidden_dim;
    size_t len, want = 8 + 4 + 8 + 4 + ((size_t)H + 1) * sizeof(float);
    const uint8_t *p = ckpt_find(f, TAG_LRNR, &len);
    int32_t nh;
    if (!p || len != want || (memcpy(&nh, p + 20, 4), nh != H)) {
        err_set("%s: no learner state for this model", f->path);
        return -1;
    }
    if (ckpt_get_adam(f, &l->adam) != 0) return -1;
    without_momentum(&l->adam);
    memcpy(&l->updates, p, 8);
    memcpy(&l->beta, p + 8, 4);
    memcpy(&l->baseline, p + 12, 8);
    memcpy(l->value_w, p + 24, ((size_t)H + 1) * sizeof(float));
    l->undo_count = 0;
    for (int i = 0; i < REPLAY_CAP; i++) episode_free(&l->replay[i]);
    l->replay_count = l->replay_head = 0;
    return 0;
}
