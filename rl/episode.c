/* episode: a rated reply and the passes over it. See episode.h. Every gradient here is
   written straight into the policy's logits gradient and pushed through lstm_backward_part. */
#include "episode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/fastmath.h"
#include "model/tokenizer.h"
#include "model/util.h"

/* ---- episodes ---- */

int reply_feature_dim(const Config *c) { return 2 * c->hidden_dim + c->vocab_size + 1; }

int reply_feature_blocks(const Config *c, int *ends) {
    ends[0] = 2 * c->hidden_dim;
    ends[1] = ends[0] + c->vocab_size;
    ends[2] = ends[1] + 1;
    return REPLY_FEATURE_BLOCKS;
}

static float *copy_floats(const float *src, size_t n) {
    float *d = xmalloc(n * sizeof(float));
    memcpy(d, src, n * sizeof(float));
    return d;
}

void episode_init(Episode *e, const Config *c, const StepState *policy_ctx, const StepState *ref_ctx,
                  const int32_t *tokens, const float *behaviour_lp, const float *policy_lp, int n) {
    size_t nh = (size_t)c->num_layers * c->hidden_dim;
    memset(e, 0, sizeof *e);
    e->ctx_h = copy_floats(policy_ctx->h, nh);
    e->ctx_c = copy_floats(policy_ctx->c, nh);
    e->ref_h = copy_floats(ref_ctx->h, nh);
    e->ref_c = copy_floats(ref_ctx->c, nh);
    if (n > MAX_EPISODE - 1) n = MAX_EPISODE - 1, e->cut = 1;
    e->tokens = xmalloc((size_t)(n + 1) * sizeof(int32_t));
    memcpy(e->tokens, tokens, (size_t)n * sizeof(int32_t));
    e->behaviour_lp = behaviour_lp ? copy_floats(behaviour_lp, (size_t)n + 1) : NULL;
    e->policy_lp = policy_lp ? copy_floats(policy_lp, (size_t)n + 1) : NULL;
    e->n = n;
}

void episode_free(Episode *e) {
    free(e->ctx_h), free(e->ctx_c), free(e->ref_h), free(e->ref_c);
    free(e->tokens), free(e->behaviour_lp), free(e->policy_lp), free(e->ref_logp), free(e->features);
    memset(e, 0, sizeof *e);
}

void episode_copy(Episode *dst, const Episode *src, const Config *c) {
    StepState p = {.h = src->ctx_h, .c = src->ctx_c}, r = {.h = src->ref_h, .c = src->ref_c};
    episode_init(dst, c, &p, &r, src->tokens, src->behaviour_lp, src->policy_lp, src->n);
    dst->reward = src->reward;
    dst->cut = src->cut;
    if (src->ref_logp) dst->ref_logp = copy_floats(src->ref_logp, (size_t)(src->n + 1) * c->vocab_size);
    if (src->features) dst->features = copy_floats(src->features, (size_t)reply_feature_dim(c));
}

/* ---- pass scratch ---- */

void pass_build(PassScratch *ln, Model *policy, const Model *ref) {
    const Config *c = &policy->config;
    memset(ln, 0, sizeof *ln);
    ln->model = policy;
    ln->ref = ref;
    acts_build(&ln->acts, c, MAX_BATCH, BATCH_ROWS / MAX_BATCH);
    acts_build(&ln->ref_acts, c, 1, MAX_EPISODE);
    state_build(&ln->st, c, MAX_BATCH);
    state_build(&ln->ref_st, c, 1);
    for (int p = 0; p < TEAM_PARTS; p++) {
        ln->probs[p] = xmalloc((size_t)c->vocab_size * sizeof(float));
        ln->scratch[p] = xmalloc((size_t)c->vocab_size * sizeof(float));
    }
}

void pass_free(PassScratch *ln) {
    acts_free(&ln->acts);
    acts_free(&ln->ref_acts);
    state_free(&ln->st);
    state_free(&ln->ref_st);
    for (int p = 0; p < TEAM_PARTS; p++) free(ln->probs[p]), free(ln->scratch[p]);
}

/* ---- forward passes ---- */

/* A cut reply's TOK_EOT was fed, not chosen: training it would teach the policy to end
   replies wherever a stop or the length limit happened to fall. */
int episode_steps(const Episode *e) { return e->n + !e->cut; }

/* Fills in and tg with the first T (at most n + 1) of [TOK_BOT, y_1..y_n] ->
   [y_1..y_n, TOK_EOT]. */
static void episode_sequence(const Episode *e, int T, int32_t *in, int32_t *tg) {
    for (int t = 0; t < T; t++) {
        in[t] = t == 0 ? TOK_BOT : e->tokens[t - 1];
        tg[t] = t < e->n ? e->tokens[t] : TOK_EOT;
    }
}

/* Runs model over the episode from the given context; leaves log-probabilities in
   a->logits (T, V). scratch: (V). */
static void forward_logprobs(const Model *m, Acts *a, LstmState *st, const float *h, const float *c,
                             const int32_t *in, int T, float *scratch) {
    const Config *cf = &m->config;
    size_t nh = (size_t)cf->num_layers * cf->hidden_dim;
    int V = cf->vocab_size;
    memcpy(st->h, h, nh * sizeof(float));
    memcpy(st->c, c, nh * sizeof(float));
    lstm_forward(m, a, in, 1, T, st);
    for (int t = 0; t < T; t++) {
        float *row = a->logits + (size_t)t * V, lse = log_sum_exp(row, V, scratch);
        for (int v = 0; v < V; v++) row[v] -= lse;
    }
}

const float *pass_ref_logprobs(PassScratch *ln, const Episode *e) {
    if (e->ref_logp) return e->ref_logp;
    int T = e->n + 1;
    episode_sequence(e, T, ln->inputs, ln->targets);
    forward_logprobs(ln->ref, &ln->ref_acts, &ln->ref_st, e->ref_h, e->ref_c, ln->inputs, T, ln->scratch[0]);
    return ln->ref_acts.logits;
}

/* The reward model's view of a reply, from the base model's pass just made over it and
   its tokens. Three blocks (the reward model weighs each alike, whatever its scale):
   - the mean of the top layer's h after each input (what the reply talked about) and the
     last one (how it ended, e.g. on a question mark);
   - which tokens it holds (1 each, once however often): a liked word is learned from the
     few replies that had it, where the state blurs it with the rest of the reply;
   - log(1 + its tokens): its length, which neither says on its own. */
static float *reply_features(const PassScratch *ln, const Episode *e) {
    const Config *c = &ln->ref->config;
    int H = c->hidden_dim, T = e->n + 1;
    float *f = xcalloc((size_t)reply_feature_dim(c), sizeof(float));
    const float *h = ln->ref_acts.h[c->num_layers - 1]; /* (T + 1, 1, H) */
    for (int t = 1; t <= T; t++)
        for (int j = 0; j < H; j++) f[j] += h[(size_t)t * H + j] / T;
    memcpy(f + H, h + (size_t)T * H, (size_t)H * sizeof(float));
    float *bag = f + 2 * H;
    for (int t = 0; t < e->n; t++)
        if (e->tokens[t] >= 0 && e->tokens[t] < c->vocab_size) bag[e->tokens[t]] = 1;
    bag[c->vocab_size] = logf(1.0f + (float)e->n);
    return f;
}

void pass_fill_ref(PassScratch *ln, Episode *e) {
    if (e->ref_logp) return;
    const float *lp = pass_ref_logprobs(ln, e);
    e->ref_logp = copy_floats(lp, (size_t)(e->n + 1) * ln->ref->config.vocab_size);
    e->features = reply_features(ln, e);
}

/* KL(pi || pi_ref) at one step, from pi's probabilities p and both log-probabilities
   (V each); term (V) is scratch. A map and a fixed-order sum, so it vectorizes. */
static float step_kl(const float *p, const float *logp, const float *ref, int V, float *term) {
    for (int v = 0; v < V; v++) term[v] = p[v] * (logp[v] - ref[v]);
    return sum_floats(term, V);
}

float pass_logprob(PassScratch *ln, const Episode *e, float *mean_kl) {
    int T = episode_steps(e), V = ln->model->config.vocab_size;
    if (mean_kl) *mean_kl = 0;
    if (T == 0) return 0;
    episode_sequence(e, T, ln->inputs, ln->targets);
    forward_logprobs(ln->model, &ln->acts, &ln->st, e->ctx_h, e->ctx_c, ln->inputs, T, ln->scratch[0]);
    double lp = 0, kl = 0;
    for (int t = 0; t < T; t++) lp += ln->acts.logits[(size_t)t * V + ln->targets[t]];
    if (mean_kl) {
        const float *ref = pass_ref_logprobs(ln, e);
        for (int t = 0; t < T; t++) {
            const float *row = ln->acts.logits + (size_t)t * V;
            for (int v = 0; v < V; v++) ln->probs[0][v] = fast_expf(row[v]);
            kl += step_kl(ln->probs[0], row, ref + (size_t)t * V, V, ln->scratch[0]);
        }
        *mean_kl = (float)(kl / T);
    }
    return (float)lp;
}

/* Sum of the base model's log-probabilities of the first T targets. */
static double ref_logprob_sum(PassScratch *ln, const Episode *e, int T) {
    const float *ref = pass_ref_logprobs(ln, e);
    int V = ln->ref->config.vocab_size;
    episode_sequence(e, T, ln->inputs, ln->targets);
    double lp = 0;
    for (int t = 0; t < T; t++) lp += ref[(size_t)t * V + ln->targets[t]];
    return lp;
}

float pass_ref_logprob(PassScratch *ln, const Episode *e) { return (float)(ref_logprob_sum(ln, e, e->n + 1) / (e->n + 1)); }

float pass_ref_logprob_sum(PassScratch *ln, const Episode *e) { return (float)ref_logprob_sum(ln, e, episode_steps(e)); }

/* ---- the gradient of one episode ---- */

/* The entropy term's weight at one step. Without the floor it is a bonus, eta for a loss
   of -eta H. With it (entropy_floor) it acts only where the policy has become more certain
   than the base model was at the same point, eta max(0, H_ref - H): it keeps the replies as
   varied as the base's without making the policy more random than the base, which is what
   a plain bonus large enough to hold distinct-2 does to bits per byte. Off by default: at
   eta 0.08 it reached short within the bounds (40 ratings, against never) but question
   later (30 against 20) and positive still never (5 seeds, checks every 10). *gap gets
   max(0, H_ref - H), 0 without the floor; term: (V) scratch. */
static float entropy_weight(const EpisodeWeights *w, float ent, const float *ref, int V, float *term, float *gap) {
    *gap = 0;
    if (!w->entropy_floor || !ref || w->eta == 0) return w->eta;
    for (int v = 0; v < V; v++) term[v] = fast_expf(ref[v]) * ref[v];
    float below = -sum_floats(term, V) - ent;
    if (below <= 0) return 0;
    *gap = below;
    return w->eta;
}

/* The policy term's coefficient at step t, from the step's log pi(y_t): REINFORCE's A, or
   for PPO's clipped surrogate -min(r A, clip(r, 1-eps, 1+eps) A) its gradient's A r,
   zero where the clipped branch is the smaller. r = pi(y_t) / mu(y_t), mu the
   distribution y_t was drawn from. A step whose mu(y_t) is 0 (the TOK_EOT that closes a
   reply cut or stopped where the sampler could not have drawn it) has no ratio: A. */
static float policy_coef(const EpisodeWeights *w, const Episode *e, int t, float logp) {
    float adv = w->advantage;
    if (!w->ppo || !e->behaviour_lp || !isfinite(e->behaviour_lp[t])) return adv;
    float r = expf(logp - e->behaviour_lp[t]), eps = w->ppo_eps;
    if ((adv >= 0 && r > 1 + eps) || (adv < 0 && r < 1 - eps)) return 0;
    return adv * r;
}

int weights_need_ref(const EpisodeWeights *w) { return w->beta > 0 || (w->eta != 0 && w->entropy_floor); }

int pass_batch_fits(int episodes, int rows) { return episodes <= MAX_BATCH && rows <= BATCH_ROWS; }

/* Turns row, the logits of job j's step t (target y), into d loss / d logits and returns
   what the step measured. With p = pi(.|s_t), q = pi_ref(.|s_t):
     policy term  coef_t * (p - e_y)        (coef_t: policy_coef)
     KL term      beta * p_k (log p_k - log q_k - KL_t)
     entropy term eta_t * p_k (log p_k + H_t)  (eta_t: entropy_weight)
   probs and term: (V) scratch. */
static EpisodeTerms step_gradient(const EpisodeJob *j, int t, int y, float *row, int V, float *probs, float *term) {
    const EpisodeWeights *w = &j->w;
    const float *ref = weights_need_ref(w) ? j->e->ref_logp + (size_t)t * V : NULL;
    float beta = w->beta, lse = log_sum_exp(row, V, term), kl = 0;
    /* Each pass is a plain map or a sum_floats, so all of them vectorize. */
    for (int v = 0; v < V; v++) row[v] -= lse; /* log p, becomes the gradient */
    for (int v = 0; v < V; v++) probs[v] = fast_expf(row[v]);
    if (ref) kl = step_kl(probs, row, ref, V, term);
    for (int v = 0; v < V; v++) term[v] = probs[v] * row[v];
    float ent = -sum_floats(term, V);
    float c = policy_coef(w, j->e, t, row[y]), gap;
    float eta_t = entropy_weight(w, ent, ref, V, term, &gap);
    EpisodeTerms measured = {.kl = kl, .entropy = ent, .logprob = row[y], .entropy_gap = gap};
    if (ref)
        for (int v = 0; v < V; v++) row[v] = probs[v] * (c + beta * (row[v] - ref[v] - kl) + eta_t * (row[v] + ent));
    else
        for (int v = 0; v < V; v++) row[v] = probs[v] * (c + eta_t * (row[v] + ent));
    row[y] -= c;
    return measured;
}

/* Part 0's set-up of a packed batch of B episodes, T steps the longest: inputs and targets
   (B, T), [TOK_BOT, y_1..y_n] -> [y_1..y_n, TOK_EOT] (what follows in a row is not read),
   and each episode's context state as row b of the initial state (L, B, H). */
static void batch_inputs(PassScratch *ln, EpisodeJob *const *jobs, int B, int T) {
    const Config *c = &ln->model->config;
    size_t H = (size_t)c->hidden_dim;
    for (int b = 0; b < B; b++) {
        const Episode *e = jobs[b]->e;
        episode_sequence(e, episode_steps(e), ln->inputs + (size_t)b * T, ln->targets + (size_t)b * T);
        for (int l = 0; l < c->num_layers; l++) {
            memcpy(ln->st.h + ((size_t)l * B + b) * H, e->ctx_h + l * H, H * sizeof(float));
            memcpy(ln->st.c + ((size_t)l * B + b) * H, e->ctx_c + l * H, H * sizeof(float));
        }
    }
}

/* The batch is packed (lstm.h): step t has a row for each episode still running, at
   acts.step_start[t] + b, so no row is padding. That needs the longest first. */
void pass_backward(PassScratch *ln, EpisodeJob *const *jobs, int B, int part, int parts) {
    int T = episode_steps(jobs[0]->e), V = ln->model->config.vocab_size, lengths[MAX_BATCH], r0, r1;
    const int *start = ln->acts.step_start;
    for (int b = 0; b < B; b++) lengths[b] = episode_steps(jobs[b]->e);
    if (part == 0) batch_inputs(ln, jobs, B, T);
    team_meet(parts);
    lstm_forward_part(ln->model, &ln->acts, ln->inputs, B, T, lengths, &ln->st, part, parts);
    part_range(start[T], part, parts, &r0, &r1);
    for (int t = 0; t < T; t++)
        for (int b = 0, r = start[t]; r < start[t + 1]; b++, r++)
            if (r >= r0 && r < r1)
                ln->steps[r] = step_gradient(jobs[b], t, ln->targets[b * T + t], ln->acts.logits + (size_t)r * V, V,
                                             ln->probs[part], ln->scratch[part]);
    team_meet(parts); /* the backward's products read every row */
    lstm_backward_part(ln->model, &ln->acts, ln->inputs, part, parts);
    if (part != 0) return;
    for (int b = 0; b < B; b++) {
        EpisodeTerms sum = {0};
        for (int t = 0; t < lengths[b]; t++) {
            const EpisodeTerms *s = &ln->steps[start[t] + b];
            sum.logprob += s->logprob, sum.kl += s->kl, sum.entropy += s->entropy, sum.entropy_gap += s->entropy_gap;
        }
        jobs[b]->terms = sum;
    }
}

double pass_loss(PassScratch *ln, const Episode *e, const EpisodeWeights *w) {
    const float *ref_all = pass_ref_logprobs(ln, e);
    int T = episode_steps(e), V = ln->model->config.vocab_size;
    if (T == 0) return 0;
    episode_sequence(e, T, ln->inputs, ln->targets);
    forward_logprobs(ln->model, &ln->acts, &ln->st, e->ctx_h, e->ctx_c, ln->inputs, T, ln->scratch[0]);
    double loss = 0;
    for (int t = 0; t < T; t++) {
        const float *row = ln->acts.logits + (size_t)t * V, *ref = ref_all + (size_t)t * V;
        double kl = 0, ent = 0, ent_ref = 0;
        for (int v = 0; v < V; v++) {
            double p = exp(row[v]);
            kl += p * (row[v] - ref[v]);
            ent -= p * row[v];
            if (w->entropy_floor) ent_ref -= exp(ref[v]) * ref[v];
        }
        double ent_loss = !w->entropy_floor ? -ent : ent_ref > ent ? ent_ref - ent : 0;
        loss += -w->advantage * row[ln->targets[t]] + w->beta * kl + w->eta * ent_loss;
    }
    return loss;
}
