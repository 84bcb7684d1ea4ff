/* simulate: `rlchat simulate`, a scripted user that rates replies through the same
   session_rate path as a keystroke, to show (and measure) that the learner learns: the
   held-out preferred-rate before, during and after, the drift of bits per byte and of
   distinct-2 against the base, and the update time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/assets.h"
#include "app/cli/cli.h"
#include "app/conversation.h"
#include "app/options.h"
#include "app/sim/simulate.h"
#include "model/trainer.h"
#include "app/sim/rater.h"
#include "rl/session.h"

#define MAX_ALGOS 4

/* Every shown reply is screened again by an independent filter: none may fail it. */
typedef struct {
    Safety *filter;     /* our own copy of the filter, NULL without assets */
    long turns;         /* replies produced */
    long blocked;       /* samples the session's filter blocked (resampled or withheld) */
    long withheld;      /* turns that ended with the placeholder */
    long leaked;        /* shown replies the independent filter blocks: must stay 0 */
} SafetyTally;

static SafetyTally tally;

static void count_turn(const Turn *t) {
    tally.turns++;
    tally.blocked += t->tries - (t->blocked ? 0 : 1);
    tally.withheld += t->blocked;
    SafetyVerdict v;
    if (!t->blocked && tally.filter && safety_check(tally.filter, t->text, strlen(t->text), &v)) tally.leaked++;
}

/* The slice of valid.txt the drift is measured on; ids NULL when the corpus is absent. */
typedef struct {
    int32_t *ids;
    size_t n, bytes;
    float bpb_base;             /* the base model's bits per byte on it */
} Validation;

typedef struct {
    float p0, final;            /* held-out preferred-rate before and after */
    int reach;                  /* ratings until the held-out rate first met the target; -1 never */
    int reach_bounded;          /* ... met it with drift and distinct-2 within the bounds (see
                                   within_bounds); -1 never */
    float bpb_final;            /* bits per byte on the validation slice */
    float d2_base, d2_final;    /* distinct-2 of held-out replies */
    float ms_p50, ms_p95;       /* a rating's time: reward, candidates, update */
    float reply_p50, reply_p95; /* a reply's time: sampled, screened, the base model's pass,
                                   and with best_of the other samples and their guesses */
    float trust;                /* the reward model's leave-one-out R^2 at the last rating */
    float rm_corr;              /* correlation of the reward model's guesses with the ratings,
                                   after the first RM_WARMUP ratings; 0 with too few */
    int rollbacks, nonfinite;
    float curve[64];            /* training preferred-rate per window of 10 ratings */
    int windows;
} RunResult;

static int load_prompts(Prompts *p, const char *path) {
    memset(p, 0, sizeof *p);
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return -1;
    int heldout = 0, n = 0;
    for (char *line = strtok(text, "\n"); line && n < MAX_PROMPTS; line = strtok(NULL, "\n")) {
        if (!strcmp(line, "# held-out")) {
            heldout = 1;
            p->n_train = n;
            continue;
        }
        if (line[0] == '#' || !line[0]) continue;
        p->lines[n++] = xstrdup(line);
    }
    free(text);
    if (!heldout) p->n_train = n;
    p->n_heldout = n - p->n_train;
    if (p->n_train == 0 || p->n_heldout == 0) {
        err_set("%s: needs prompts before and after a '# held-out' line", path);
        return -1;
    }
    return 0;
}

/* See simulate.h. */
int heldout_replies(Session *s, const Prompts *p, const Rater *r, int samples, char **replies,
                    unsigned char *blocked, float *features) {
    SessionConfig *cfg = session_config(s);
    int keep = cfg->learn_from_blocked, keep_candidates = cfg->sample_candidates, liked = 0, k = 0;
    cfg->learn_from_blocked = 0, cfg->sample_candidates = 0; /* these replies are never rated */
    for (int i = 0; i < p->n_heldout; i++)
        for (int j = 0; j < samples; j++, k++) {
            const char *prompt = p->lines[p->n_train + i];
            session_clear(s);
            const Turn *t = session_say(s, prompt, strlen(prompt), NULL, NULL, NULL);
            count_turn(t);
            liked += r && !t->blocked && rater_prefers(r, t->text);
            replies[k] = xstrdup(t->blocked ? "" : t->text);
            if (blocked) blocked[k] = (unsigned char)t->blocked;
            if (features && !t->blocked) {
                int D = reply_feature_dim(&session_policy(s)->config);
                memcpy(features + (size_t)k * D, t->episode.features, (size_t)D * sizeof(float));
            }
        }
    cfg->learn_from_blocked = keep, cfg->sample_candidates = keep_candidates;
    session_clear(s);
    return liked;
}

/* The preferred fraction of fresh held-out replies; fills replies for distinct-2. */
static float heldout_rate(Session *s, const Prompts *p, const Rater *r, int samples, char **replies) {
    return (float)heldout_replies(s, p, r, samples, replies, NULL, NULL) / (float)(p->n_heldout * samples);
}

/* The model's bits per byte on the validation slice. */
static float bits_per_byte(const Model *m, const int32_t *ids, size_t n, size_t bytes) {
    size_t count;
    return (float)nats_to_bits_per_byte(evaluate_stream(m, ids, n, 8, 64, &count), bytes);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static float median(float *x, int n) {
    qsort(x, (size_t)n, sizeof(float), cmp_float);
    return n ? x[n / 2] : 0;
}

/* The median and the 95th percentile of x (sorted in place), the latter by nearest rank,
   so it is never under the median, even with a few values. */
static void percentiles(float *x, int n, float *p50, float *p95) {
    *p50 = median(x, n);
    *p95 = n ? x[(int)ceil(0.95 * n) - 1] : 0;
}

static void free_replies(char **r, int n) {
    for (int i = 0; i < n; i++) free(r[i]);
}

/* The bounds on the way to the target (docs/learning.md): bits per byte on the validation slice at
   most 10% above the base's, distinct-2 of the held-out replies at least 90% of the base's.
   A learner that reaches the rate by collapsing onto one reply has not reached it. */
#define MAX_DRIFT 0.10f
#define MIN_DISTINCT2_RATIO 0.90f
#define BASE_DRAWS 4
#define RM_WARMUP 10

static int within_bounds(const Session *s, const RunResult *out, float d2, const Validation *v, int verbose) {
    int d2_ok = d2 >= MIN_DISTINCT2_RATIO * out->d2_base;
    /* A pass over the validation slice costs more than the check's replies: only when it decides. */
    float bpb = v->ids && (d2_ok || verbose) ? bits_per_byte(session_policy(s), v->ids, v->n, v->bytes) : 0;
    int ok = d2_ok && (!v->ids || bpb <= (1 + MAX_DRIFT) * v->bpb_base);
    if (verbose) /* why a check that met the rate missed the bounds */
        fprintf(stderr, "    rate met; distinct-2 %.3f of the base, bits per byte %+.2f%%: %s\n",
                out->d2_base > 0 ? d2 / out->d2_base : 0, v->ids ? 100 * (bpb - v->bpb_base) / v->bpb_base : 0,
                ok ? "within the bounds" : "outside them");
    return ok;
}

/* One simulated user: ratings on training prompts, held-out checks every eval_every. */
static int simulate_run(const SimArgs *a, const Prompts *p, const Rater *r, Algo algo, int seed, const Validation *v,
                        RunResult *out) {
    memset(out, 0, sizeof *out);
    SessionConfig cfg = a->cfg;
    cfg.learn.algo = algo;
    Session *s = session_new(a->model, a->no_safety ? NULL : a->assets, &cfg, (uint64_t)seed * 7919 + 1);
    if (!s) return -1;
    int n_rep = p->n_heldout * a->samples;
    char **replies = xcalloc((size_t)n_rep, sizeof(char *));
    /* The base is measured BASE_DRAWS times and averaged: every later check of this run is
       compared with it, so its sampling noise would otherwise move all of them at once
       (one draw's distinct-2 varies by +-7% from seed to seed). */
    for (int k = 0; k < BASE_DRAWS; k++) {
        out->p0 += heldout_rate(s, p, r, a->samples, replies) / BASE_DRAWS;
        out->d2_base += (float)distinct2(replies, n_rep) / BASE_DRAWS;
        free_replies(replies, n_rep);
    }
    float target = simulate_target(out->p0);
    out->reach = out->reach_bounded = out->p0 >= target ? 0 : -1;
    float *ms = xmalloc((size_t)a->ratings * sizeof(float)), *reply_ms = xmalloc((size_t)a->ratings * sizeof(float));
    int n_ms = 0, liked_in_window = 0;
    double guess[4] = {0}, guessed = 0; /* sums of g, y, g^2, gy over guesses g of ratings y */
    Rng rng;
    rng_seed(&rng, (uint64_t)seed);
    for (int i = 1; i <= a->ratings; i++) {
        const char *prompt = p->lines[rng_u32(&rng) % (uint32_t)p->n_train];
        session_clear(s);
        double t0 = now_seconds();
        const Turn *t = session_say(s, prompt, strlen(prompt), NULL, NULL, NULL);
        reply_ms[i - 1] = (float)((now_seconds() - t0) * 1e3);
        count_turn(t);
        int liked = !t->blocked && rater_prefers(r, t->text);
        liked_in_window += liked;
        RatingResult res = {0};
        int rated = 0;
        if (!t->blocked) {
            if (session_rate(s, liked ? 1.0f : -1.0f, &res) != 0) {
                out->rollbacks++;
                if (a->verbose) fprintf(stderr, "  rating failed: %s (loss %g, norm %g)\n", err_msg(), res.update.loss,
                                        res.update.grad_norm);
            }
            else {
                rated = 1;
                ms[n_ms++] = (float)res.ms;
                out->trust = res.trust;
                if (i > RM_WARMUP) {
                    double g = res.predicted_human, y = liked ? 1 : -1;
                    guess[0] += g, guess[1] += y, guess[2] += g * g, guess[3] += g * y, guessed++;
                }
            }
        }
        if (a->verbose && rated) /* the reward model's guess of this rating, made before it, and its trust after */
            fprintf(stderr, "  %3d %s guess %+.2f trust %.2f | %s | %s\n", i, liked ? "+" : "-", res.predicted_human,
                    res.trust, prompt, t->text);
        else if (a->verbose) fprintf(stderr, "  %3d %s | %s | %s\n", i, liked ? "+" : "-", prompt, t->text);
        if (i % 10 == 0 && out->windows < 64) {
            out->curve[out->windows++] = liked_in_window / 10.0f;
            liked_in_window = 0;
        }
        if (out->reach_bounded < 0 && i % a->eval_every == 0) {
            float rate = heldout_rate(s, p, r, a->samples, replies);
            if (a->verbose) fprintf(stderr, "  check at %d: held-out rate %.3f, target %.3f\n", i, rate, target);
            if (rate >= target) {
                if (out->reach < 0) out->reach = i;
                if (within_bounds(s, out, (float)distinct2(replies, n_rep), v, a->verbose))
                    out->reach_bounded = i;
            }
            free_replies(replies, n_rep);
        }
    }
    out->final = heldout_rate(s, p, r, a->samples, replies);
    out->d2_final = (float)distinct2(replies, n_rep);
    free_replies(replies, n_rep);
    free(replies);
    const Model *policy = session_policy(s);
    for (size_t i = 0; i < policy->num_params; i++) out->nonfinite += !isfinite(policy->param_block[i]);
    if (v->ids) out->bpb_final = bits_per_byte(policy, v->ids, v->n, v->bytes);
    /* y is +-1, so its variance is 1 - mean(y)^2. */
    double my = guessed ? guess[1] / guessed : 0, mg = guessed ? guess[0] / guessed : 0;
    double vg = guessed ? guess[2] / guessed - mg * mg : 0, vy = 1 - my * my;
    if (guessed > 2 && vg > 1e-12 && vy > 1e-12) out->rm_corr = (float)((guess[3] / guessed - mg * my) / sqrt(vg * vy));
    percentiles(ms, n_ms, &out->ms_p50, &out->ms_p95);
    percentiles(reply_ms, a->ratings, &out->reply_p50, &out->reply_p95);
    free(ms), free(reply_ms);
    session_free(s);
    return 0;
}

static void print_ratings(const char *rater, const char *algo, const char *name, float ratings) {
    if (ratings >= 1e9f) printf("sim_%s_%s_%s never ratings\n", rater, algo, name);
    else printf("sim_%s_%s_%s %.0f ratings\n", rater, algo, name, ratings);
}

/* --set KEY=VALUE, or an older spelling --KEY-NAME VALUE (--best-of 4), into the runs'
   settings: the chat's /set table decides the names and their ranges. */
static int take_setting(void *ctx, const char *option, const char *value) {
    char key[64];
    if (!strcmp(option, "--set")) {
        const char *eq = strchr(value, '=');
        if (!eq || eq == value || (size_t)(eq - value) >= sizeof key) {
            err_set("--set wants KEY=VALUE, not '%s'", value);
            return -1;
        }
        snprintf(key, sizeof key, "%.*s", (int)(eq - value), value);
        value = eq + 1;
    } else {
        snprintf(key, sizeof key, "%s", option + 2);
        for (char *p = key; *p; p++)
            if (*p == '-') *p = '_';
    }
    if (!strcmp(key, "algo")) {
        err_set("--set algo: use --algo NAME, which also takes all");
        return -1;
    }
    return settings_set(ctx, key, value);
}

int cli_simulate(int argc, char **argv) {
    SimArgs a = {.prompts = NULL, .algo = "all", .ratings = 100, .seeds = 5, .first_seed = 1, .eval_every = 5,
                 .samples = 2, .valid_bytes = 65536, .cfg = session_default_config()};
    OptCall set = {take_setting, &a.cfg};
    const char *rater_specs = "question,short,positive,topic:music";
    const Option opts[] = {
        {"--model", OPT_STRING, &a.model, "base model (default: the shipped model)"},
        {"--rater", OPT_STRING, &rater_specs, "comma-separated: question, short, positive, topic:WORD"},
        {"--ratings", OPT_INT, &a.ratings, "ratings per run (100)"},
        {"--seeds", OPT_INT, &a.seeds, "runs per rater and algorithm (5)"},
        {"--first-seed", OPT_INT, &a.first_seed, "seed of the first run (1): more seeds in a second process"},
        {"--algo", OPT_STRING, &a.algo, "reinforce, baseline, actor-critic, full, or all (all)"},
        {"--set", OPT_CALL, &set, "KEY=VALUE (again for more): a setting of the chat's /set in its range (temp, "
                                  "lr, beta, kl_target, entropy, best_of, w_informativeness, ...), or the learner's "
                                  "replay, self_imitation, imitate_above, critic_lr, entropy_floor; the older "
                                  "--lr X, --best-of K, ... still work"},
        /* The spellings before --set, which the docs' experiments use. */
        {"--lr", OPT_CALL, &set, NULL},
        {"--clip", OPT_CALL, &set, NULL},
        {"--beta", OPT_CALL, &set, NULL},
        {"--kl-target", OPT_CALL, &set, NULL},
        {"--entropy", OPT_CALL, &set, NULL},
        {"--entropy-floor", OPT_CALL, &set, NULL},
        {"--critic-lr", OPT_CALL, &set, NULL},
        {"--replay", OPT_CALL, &set, NULL},
        {"--self-imitation", OPT_CALL, &set, NULL},
        {"--imitate-above", OPT_CALL, &set, NULL},
        {"--candidates", OPT_CALL, &set, NULL},
        {"--candidate-weight", OPT_CALL, &set, NULL},
        {"--best-of", OPT_CALL, &set, NULL},
        {"--best-of-by-policy", OPT_CALL, &set, NULL},
        {"--w-informativeness", OPT_CALL, &set, NULL},
        {"--prompts", OPT_STRING, &a.prompts, "prompt file (default: assets/prompts.txt)"},
        {"--valid", OPT_STRING, &a.valid, "corpus for the bits-per-byte drift (default ../shared/data/corpus/valid.txt)"},
        {"--valid-bytes", OPT_INT, &a.valid_bytes, "bytes of it to evaluate (65536)"},
        {"--eval-every", OPT_INT, &a.eval_every, "ratings between held-out checks (5)"},
        {"--samples", OPT_INT, &a.samples, "replies per held-out prompt per check (2)"},
        {"--assets", OPT_STRING, &a.assets, "safety filter folder (default: the shipped assets)"},
        {"--no-safety", OPT_FLAG, &a.no_safety, "run without the safety filter"},
        {"--ceiling", OPT_INT, &a.ceiling, "N: sample N base replies a held-out prompt and print how varied the "
                                           "base tilted to the target rate stays, and how well the reward model "
                                           "chooses after 5, 10 and 20 ratings, instead of the runs"},
        {"--verbose", OPT_FLAG, &a.verbose, "print every rated exchange with the reward model's guess and trust, and "
                                            "each check's held-out rate, with the bounds when it met the target"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat simulate [--model FILE] [--rater SPEC] [--ratings N] [--seeds S] [--algo NAME]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (a.ratings < 1 || a.seeds < 1 || a.first_seed < 1 || a.eval_every < 1 || a.samples < 1 ||
        a.valid_bytes < 1 || a.first_seed > 1000000 - a.seeds) {
        fprintf(stderr, "rlchat: --ratings, --seeds, --first-seed, --eval-every, --samples and --valid-bytes must be "
                        "positive, and the last seed at most 1000000\n");
        return 2;
    }
    if (!a.assets) a.assets = assets_dir_default();
    if (!a.model) a.model = default_model_path(a.assets);
    char prompt_path[4096];
    snprintf(prompt_path, sizeof prompt_path, "%s/prompts.txt", a.assets);
    if (!a.prompts) a.prompts = prompt_path;
    Rater raters[16];
    int n_raters = 0;
    char *specs = xstrdup(rater_specs);
    for (char *tok = strtok(specs, ","); tok && n_raters < 16; tok = strtok(NULL, ","))
        if (rater_parse(&raters[n_raters++], tok) != 0) {
            fprintf(stderr, "rlchat: %s\n", err_msg());
            free(specs);
            return 2;
        }
    free(specs);
    if (n_raters == 0) {
        fprintf(stderr, "rlchat: --rater names no rater (question, short, positive, topic:WORD)\n");
        return 2;
    }
    Algo algos[MAX_ALGOS];
    int n_algos = 0;
    if (!strcmp(a.algo, "all"))
        for (int i = 0; i < MAX_ALGOS; i++) algos[n_algos++] = (Algo)i;
    else if (algo_from_name(a.algo, &algos[n_algos++]) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        return 2;
    }
    Prompts p;
    if (load_prompts(&p, a.prompts) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        return 1;
    }
    if (a.ceiling > 0) {
        int status = simulate_ceiling(&a, &p, raters, n_raters);
        for (int i = 0; i < p.n_train + p.n_heldout; i++) free(p.lines[i]);
        return status;
    }
    /* The validation slice for the drift, when the corpus is there. */
    Model base;
    Tokenizer tok;
    if (model_load(a.model, &base, &tok) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        return 1;
    }
    if (!a.valid) a.valid = "../shared/data/corpus/valid.txt";
    Validation v = {0};
    char *vtext = read_file(a.valid, &v.bytes);
    if (vtext) {
        if (v.bytes > (size_t)a.valid_bytes) v.bytes = (size_t)a.valid_bytes;
        v.ids = corpus_encode(&tok, vtext, v.bytes, &v.n);
        v.bpb_base = bits_per_byte(&base, v.ids, v.n, v.bytes);
        free(vtext);
    } else {
        v.bytes = 0;
        fprintf(stderr, "note: %s not found; skipping the bits-per-byte drift\n", a.valid);
    }
    printf("# model %s, %d ratings, %d seeds, base bits/byte %.4f on %zu bytes of %s\n", a.model, a.ratings,
           a.seeds, v.bpb_base, v.bytes, a.valid);
    int status = 0;
    if (!a.no_safety && !(tally.filter = safety_load(a.assets))) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        status = 1;
        goto done;
    }
    for (int ri = 0; ri < n_raters; ri++)
        for (int ai = 0; ai < n_algos; ai++) {
            float finals[64], p0s[64], reach[64], reach_b[64], drift[64], d2r[64], p50[64], p95[64], r50[64], r95[64];
            int n = 0, nonfinite = 0, rollbacks = 0;
            for (int seed = a.first_seed; seed < a.first_seed + a.seeds && n < 64; seed++) {
                RunResult res;
                if (simulate_run(&a, &p, &raters[ri], algos[ai], seed, &v, &res) != 0) {
                    fprintf(stderr, "rlchat: %s\n", err_msg());
                    status = 1;
                    goto done;
                }
                drift[n] = v.bpb_base > 0 ? 100 * (res.bpb_final - v.bpb_base) / v.bpb_base : 0;
                printf("run rater=%s algo=%s seed=%d p0=%.3f final=%.3f reach=%d reach_in_bounds=%d bpb_drift=%+.2f%% "
                       "distinct2=%.3f/%.3f update_ms_p50=%.1f p95=%.1f reply_ms_p50=%.1f reply_ms_p95=%.1f "
                       "rm_corr=%.2f rm_r2=%.2f rollbacks=%d nonfinite=%d curve=",
                       raters[ri].spec, algo_name(algos[ai]), seed, res.p0, res.final, res.reach, res.reach_bounded,
                       drift[n], res.d2_base, res.d2_final, res.ms_p50, res.ms_p95, res.reply_p50, res.reply_p95,
                       res.rm_corr, res.trust, res.rollbacks, res.nonfinite);
                for (int w = 0; w < res.windows; w++) printf("%s%.1f", w ? "," : "", res.curve[w]);
                printf("\n");
                fflush(stdout);
                finals[n] = res.final, p0s[n] = res.p0;
                reach[n] = res.reach < 0 ? 1e9f : (float)res.reach;
                reach_b[n] = res.reach_bounded < 0 ? 1e9f : (float)res.reach_bounded;
                d2r[n] = res.d2_base > 0 ? res.d2_final / res.d2_base : 0;
                p50[n] = res.ms_p50, p95[n] = res.ms_p95, r50[n] = res.reply_p50, r95[n] = res.reply_p95;
                nonfinite += res.nonfinite, rollbacks += res.rollbacks;
                n++;
            }
            const char *rs = raters[ri].spec, *an = algo_name(algos[ai]);
            printf("sim_%s_%s_p0 %.3f rate\n", rs, an, median(p0s, n));
            printf("sim_%s_%s_final %.3f rate\n", rs, an, median(finals, n));
            print_ratings(rs, an, "ratings_to_target", median(reach, n));
            print_ratings(rs, an, "ratings_to_target_in_bounds", median(reach_b, n));
            printf("sim_%s_%s_bpb_drift %+.2f %%\n", rs, an, median(drift, n));
            printf("sim_%s_%s_distinct2_ratio %.3f ratio\n", rs, an, median(d2r, n));
            printf("sim_%s_%s_update_ms_p50 %.1f ms\n", rs, an, median(p50, n));
            printf("sim_%s_%s_update_ms_p95 %.1f ms\n", rs, an, median(p95, n));
            printf("sim_%s_%s_reply_ms_p50 %.1f ms\n", rs, an, median(r50, n));
            printf("sim_%s_%s_reply_ms_p95 %.1f ms\n", rs, an, median(r95, n));
            printf("sim_%s_%s_nonfinite %d count\nsim_%s_%s_rollbacks %d count\n", rs, an, nonfinite, rs, an,
                   rollbacks);
            fflush(stdout);
        }
    printf("sim_turns %ld count\nsim_blocked_samples %ld count\nsim_withheld_turns %ld count\n"
           "sim_shown_replies_failing_filter %ld count\n", tally.turns, tally.blocked, tally.withheld, tally.leaked);
done:
    if (tally.filter) safety_free(tally.filter);
    free(v.ids);
    for (int i = 0; i < p.n_train + p.n_heldout; i++) free(p.lines[i]);
    tokenizer_free(&tok);
    model_free(&base);
    return status;
}
