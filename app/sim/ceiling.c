/* ceiling: `rlchat simulate --ceiling`, what the base model's own replies
   allow, measured without a learner: how varied a policy at the target rate can stay, and
   how well the reward model chooses after a few ratings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/sim/simulate.h"
#include "app/sim/tilt.h"

/* ---- the ceiling: how varied a policy at the target rate can stay ----

   The learner's KL penalty aims it at the base tilted toward liked replies (app/sim/tilt.h),
   which raises every liked reply by the same factor. So sample a pool of base replies to
   every held-out prompt, take the share p_x of them the rater likes, find the tilt at which
   the held-out rate is the target, draw the held-out replies from the tilted policy out of
   the pools, and measure their distinct-2 against draws from the untilted pools. A learner
   under this figure narrowed more than the rate needs; were the figure itself under the
   bound, no policy that keeps to the base's own replies could meet the rate and the bound
   together. The pools are finite: a prompt whose pool holds one liked reply repeats it, so
   small pools understate the tilted policy's variety (on the shipped model, pools of 100
   and of 400 replies agree within 0.011). */

typedef struct {
    char **text;        /* (n_heldout * pool) base replies, prompt by prompt ("" when blocked) */
    unsigned char *blocked, *liked; /* the same: blocked by the filter; preferred by the rater */
    float *features;    /* the same, (dim) each: the reward model's view of them */
    int n_prompts, pool, dim;
    Config config;      /* the base model's, for the reward model's blocks */
} Pools;

static void sample_pools(Pools *pl, const SimArgs *a, const Prompts *p, int pool) {
    SessionConfig cfg = session_default_config();
    Session *s = session_new(a->model, a->no_safety ? NULL : a->assets, &cfg, 7919);
    int n = p->n_heldout * pool;
    *pl = (Pools){.text = xcalloc((size_t)n, sizeof(char *)), .blocked = xmalloc((size_t)n),
                  .liked = xmalloc((size_t)n), .n_prompts = s ? p->n_heldout : 0, .pool = pool};
    if (s) {
        pl->config = session_policy(s)->config;
        pl->dim = reply_feature_dim(&pl->config);
        pl->features = xcalloc((size_t)n * pl->dim, sizeof(float));
        heldout_replies(s, p, NULL, pool, pl->text, pl->blocked, pl->features);
    }
    session_free(s);
}

static void free_pools(Pools *pl) {
    for (int k = 0; k < pl->n_prompts * pl->pool; k++) free(pl->text[k]);
    free(pl->text), free(pl->blocked), free(pl->liked), free(pl->features);
}

/* Draws one of prompt i's pool replies that is liked (want 1) or not, preferring one not
   drawn before for that prompt; when the pool holds none of that kind, the other kind. */
static int draw_from_pool(const Pools *pl, int i, int want, const unsigned char *used, Rng *rng) {
    const unsigned char *liked = pl->liked + i * pl->pool;
    int have = 0, fresh = 0;
    for (int r = 0; r < pl->pool; r++) have += liked[r] == want, fresh += liked[r] == want && !used[r];
    if (!have) return draw_from_pool(pl, i, !want, used, rng);
    int u = (int)(rng_u32(rng) % (uint32_t)(fresh ? fresh : have));
    for (int r = 0; r < pl->pool; r++)
        if (liked[r] == want && (!fresh || !used[r]) && u-- == 0) return r;
    return -1; /* not reached */
}

/* The mean distinct-2 over `draws` sets of held-out replies: for each prompt `samples`
   replies, each liked with probability w_x. */
static float tilted_distinct2(const Pools *pl, const float *w, int samples, int draws, Rng *rng) {
    char **set = xmalloc((size_t)(pl->n_prompts * samples) * sizeof(char *));
    unsigned char *used = xmalloc((size_t)pl->pool);
    double sum = 0;
    for (int d = 0; d < draws; d++) {
        int k = 0;
        for (int i = 0; i < pl->n_prompts; i++) {
            memset(used, 0, (size_t)pl->pool);
            for (int j = 0; j < samples; j++) {
                int r = draw_from_pool(pl, i, rng_float(rng) < w[i], used, rng);
                used[r] = 1;
                set[k++] = pl->text[i * pl->pool + r];
            }
        }
        sum += distinct2(set, k);
    }
    free(used);
    free(set);
    return (float)(sum / draws);
}

#define CEILING_DRAWS 200
#define MAX_TILT 30.0f

/* Marks which pool replies the rater likes and prints the ceiling; returns the target. */
static float ceiling_report(Pools *pl, const Rater *r, int samples) {
    int n = pl->n_prompts, liked_total = 0;
    float *px = xmalloc((size_t)n * sizeof(float)), *w = xmalloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) {
        int liked = 0;
        for (int j = 0; j < pl->pool; j++) {
            int k = i * pl->pool + j;
            pl->liked[k] = (unsigned char)(!pl->blocked[k] && rater_prefers(r, pl->text[k]));
            liked += pl->liked[k];
        }
        px[i] = (float)liked / (float)pl->pool, liked_total += liked;
    }
    const char *rs = r->spec;
    Rng rng;
    rng_seed(&rng, 17);
    float p0 = tilt_rate(px, n, 0, w), target = simulate_target(p0);
    float d2_base = tilted_distinct2(pl, w, samples, CEILING_DRAWS, &rng);
    printf("ceiling_%s_pool %d replies\nceiling_%s_liked_in_pool %d replies\nceiling_%s_p0 %.3f rate\n"
           "ceiling_%s_distinct2_base %.3f distinct2\n", rs, n * pl->pool, rs, liked_total, rs, p0, rs, d2_base);
    /* The target, then a curve: how much variety the rate costs the tilted policy. */
    float rates[] = {target, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f};
    for (int k = 0; k < (int)(sizeof rates / sizeof *rates); k++) {
        if (k > 0 && rates[k] <= p0) continue;
        float c = tilt_for_rate(px, n, rates[k], MAX_TILT, w);
        char at[32];
        snprintf(at, sizeof at, k ? "at_%.2f" : "at_target", rates[k]);
        if (c < 0) {
            printf("ceiling_%s_%s_reachable 0 flag\n", rs, at);
            break;
        }
        float d2 = tilted_distinct2(pl, w, samples, CEILING_DRAWS, &rng);
        if (!k) printf("ceiling_%s_target %.3f rate\n", rs, target);
        printf("ceiling_%s_%s_tilt %.2f nats\nceiling_%s_%s_kl %.2f nats_per_reply\n"
               "ceiling_%s_%s_distinct2_ratio %.3f ratio\n", rs, at, c, rs, at, tilt_kl(px, w, n, c), rs, at,
               d2 / d2_base);
    }
    fflush(stdout);
    free(px), free(w);
    return target;
}

/* ---- what a few ratings tell the reward model ----

   The best of K shows the reply the reward model guesses is liked, so how soon it helps is
   how soon the model can tell. From the same pools: the held-out prompts are split in two
   at random; n replies to the first half are rated by the rater and fitted (the session's
   reward model, on the same features); then to each prompt of the other half, as many
   times as a check shows a reply (2 x samples over half the prompts), FEWSHOT_K pool
   replies are drawn and one shown, as the session chooses it: the highest guess once the
   model's leave-one-out R^2 is above 0, the first until then. The highest guess whatever
   the R^2 shows what the features could tell at once. Both are choices among the base
   model's replies, as the first ratings' are, by the guessed rating alone (the session
   adds the automatic terms to it). */

#define FEWSHOT_DRAWS 200
#define FEWSHOT_K 4

/* A random reply of prompt i's pool that passed the filter and is not used; -1 if none. */
static int draw_reply(const Pools *pl, int i, const unsigned char *used, Rng *rng) {
    const unsigned char *blocked = pl->blocked + i * pl->pool, *taken = used + i * pl->pool;
    int fresh = 0;
    for (int r = 0; r < pl->pool; r++) fresh += !blocked[r] && !taken[r];
    if (!fresh) return -1;
    int u = (int)(rng_u32(rng) % (uint32_t)fresh);
    for (int r = 0; r < pl->pool; r++)
        if (!blocked[r] && !taken[r] && u-- == 0) return i * pl->pool + r;
    return -1; /* not reached */
}

/* One draw over the prompts in `order`: n ratings from the first half fitted into rm, then
   the liked share of the replies shown on the second half, chosen as the session does
   (shown[0]) and by the guess alone (shown[1]). */
static void fewshot_draw(const Pools *pl, RewardModel *rm, const int *order, int n, int samples, Rng *rng,
                         float shown[2]) {
    int half = pl->n_prompts / 2, liked[2] = {0, 0}, count = 0;
    unsigned char *used = xcalloc((size_t)pl->n_prompts * pl->pool, 1);
    reward_model_clear(rm);
    for (int k = 0, tries = 0; k < n && tries < 100 * n; tries++) {
        int x = draw_reply(pl, order[rng_u32(rng) % (uint32_t)half], used, rng);
        if (x < 0) continue;
        used[x] = 1;
        reward_model_add(rm, pl->features + (size_t)x * pl->dim, pl->liked[x] ? 1.0f : -1.0f);
        k++;
    }
    int trusted = reward_model_trust(rm) > 0;
    for (int i = half; i < pl->n_prompts; i++)
        for (int j = 0; j < 2 * samples; j++) {
            int first = -1, best = -1;
            float top = 0;
            for (int c = 0; c < FEWSHOT_K; c++) {
                int x = draw_reply(pl, order[i], used, rng);
                if (x < 0) break;
                used[x] = 1;
                float guess = reward_model_predict(rm, pl->features + (size_t)x * pl->dim);
                if (first < 0 || guess > top) top = guess, best = x;
                if (first < 0) first = x;
            }
            if (first < 0) continue;
            liked[0] += pl->liked[trusted ? best : first], liked[1] += pl->liked[best], count++;
        }
    free(used);
    for (int c = 0; c < 2; c++) shown[c] = count ? (float)liked[c] / (float)count : 0;
}

static void fewshot_report(const Pools *pl, const Rater *r, int samples, float target) {
    static const int after[] = {5, 10, 20};
    if (pl->n_prompts < 2) return; /* nothing to rate apart from what is shown */
    RewardModel rm;
    session_build_reward_model(&rm, &pl->config, 0);
    int *order = xmalloc((size_t)pl->n_prompts * sizeof(int));
    Rng rng;
    rng_seed(&rng, 29);
    for (int a = 0; a < (int)(sizeof after / sizeof *after); a++) {
        double sum[2] = {0, 0};
        int met = 0;
        for (int d = 0; d < FEWSHOT_DRAWS; d++) {
            for (int i = 0; i < pl->n_prompts; i++) order[i] = i;
            rng_shuffle(&rng, order, pl->n_prompts);
            float shown[2];
            fewshot_draw(pl, &rm, order, after[a], samples, &rng, shown);
            sum[0] += shown[0], sum[1] += shown[1], met += shown[0] >= target;
        }
        const char *rs = r->spec;
        int n = after[a];
        printf("fewshot_%s_after_%d_rate %.3f rate\nfewshot_%s_after_%d_met_target %.2f share\n"
               "fewshot_%s_after_%d_rate_ungated %.3f rate\n", rs, n, sum[0] / FEWSHOT_DRAWS, rs, n,
               (double)met / FEWSHOT_DRAWS, rs, n, sum[1] / FEWSHOT_DRAWS);
    }
    fflush(stdout);
    free(order);
    reward_model_free(&rm);
}

/* One pool of base replies, each rater's report on it. */
int simulate_ceiling(const SimArgs *a, const Prompts *p, const Rater *raters, int n_raters) {
    printf("# model %s, %d base replies to each of %d held-out prompts\n", a->model, a->ceiling, p->n_heldout);
    Pools pl;
    sample_pools(&pl, a, p, a->ceiling);
    if (!pl.n_prompts) fprintf(stderr, "rlchat: %s\n", err_msg());
    for (int ri = 0; ri < n_raters && pl.n_prompts; ri++)
        fewshot_report(&pl, &raters[ri], a->samples, ceiling_report(&pl, &raters[ri], a->samples));
    int status = pl.n_prompts ? 0 : 1;
    free_pools(&pl);
    return status;
}
