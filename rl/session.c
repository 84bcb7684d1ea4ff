/* session: the conversation loop shared by every front end. See session.h. */
#include "session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/checkpoint.h"

#define TAG_SESS CKPT_TAG('S', 'E', 'S', 'S')
#define TAG_BASE CKPT_TAG('B', 'A', 'S', 'E') /* the base model's file name */
#define FEED_CHUNK 64    /* message tokens fed between looks at the stop flag */

typedef enum { UPDATE_RATING, UPDATE_PREFERENCE } UpdateKind;

/* What undoing one of the learner's undoable updates must restore besides the learner. */
typedef struct {
    UpdateKind kind;         /* a rating also leaves the reward model */
    RunningStat human_stats; /* the rating statistics before it */
} UndoEntry;

struct Session {
    SessionConfig cfg;
    Model base;              /* frozen reference model */
    Model policy;            /* the copy that learns */
    Tokenizer tok;
    uint32_t base_id;        /* CRC of the base weights: a profile's base must match */
    char base_name[256];     /* the base model's file name, recorded in profiles for messages */
    Learner *learner;
    Safety *safety;          /* NULL: no filter */
    uint8_t *mask;           /* (V) tokens never sampled: blocked words on their own */
    Lexicon words;           /* the corpus's words (words.txt), with prefixes; empty: none */
    Generator gen;           /* the policy's conversation */
    Generator ref_gen;       /* the base model's view of the same conversation */
    StepState ctx, ref_ctx;  /* both states before the last reply's TOK_BOT */
    Rng rng;
    Rng candidate_rng;       /* candidates draw from their own stream: with or without them,
                                the replies shown are drawn alike */
    RewardModel rm;          /* predicts the human term of replies nobody rated */
    RunningStat human_stats; /* per-profile statistics of human ratings */
    Turn turn, alt;          /* the last reply and its alternative (after regenerate) */
    int has_turn, has_alt;
    UndoEntry *undo;         /* (undo_depth) beside each update the learner can undo, oldest
                                first; safety penalties are not among them (learner.h) */
    int n_undo;
    int ratings, unsaved;
};

void session_build_reward_model(RewardModel *rm, const Config *c, int spare) {
    int ends[REPLY_FEATURE_BLOCKS];
    reward_model_build(rm, reply_feature_dim(c), SESSION_RM_EXAMPLES, spare, SESSION_RM_RIDGE);
    reward_model_set_blocks(rm, reply_feature_blocks(c, ends), ends);
}

SessionConfig session_default_config(void) {
    SessionConfig c = {.learn = learner_default_config(), .weights = reward_default_weights(),
                       .sampling = chat_sampler_defaults(), .max_tokens = CHAT_MAX_TOKENS,
                       .resample_tries = 4, .learn_from_blocked = 1, .sample_candidates = 1,
                       .best_of = 4, .best_of_by_policy = 8};
    return c;
}

static void turn_free(Turn *t) {
    free(t->prompt);
    free(t->text);
    free(t->prompt_tokens);
    episode_free(&t->episode);
    for (int i = 0; i < t->n_candidates; i++) episode_free(&t->candidates[i]);
    free(t->candidates);
    free(t->candidate_terms);
    memset(t, 0, sizeof *t);
}

/* Remembers an undoable update beside the learner's undo ring (same depth), with the
   rating statistics from before it. */
static void push_undo(Session *s, UpdateKind k, const RunningStat *before) {
    int depth = s->cfg.learn.undo_depth > 0 ? s->cfg.learn.undo_depth : 1;
    if (s->n_undo == depth) {
        memmove(s->undo, s->undo + 1, (size_t)(depth - 1) * sizeof *s->undo);
        s->n_undo--;
    }
    s->undo[s->n_undo++] = (UndoEntry){.kind = k, .human_stats = *before};
}

/* The word list of the assets folder, when it has one: a folder without it (a model of
   another corpus) samples any word. */
static int load_words(Session *s, const char *assets_dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/words.txt", assets_dir);
    if (access(path, F_OK) != 0) return 0;
    return lexicon_load(&s->words, path);
}

Session *session_new(const char *model_path, const char *assets_dir, const SessionConfig *cfg, uint64_t seed) {
    Session *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    const char *slash = strrchr(model_path, '/');
    snprintf(s->base_name, sizeof s->base_name, "%s", slash ? slash + 1 : model_path);
    if (model_load(model_path, &s->base, &s->tok) != 0) {
        free(s);
        return NULL;
    }
    if (assets_dir) {
        s->safety = safety_load(assets_dir);
        if (!s->safety) {
            tokenizer_free(&s->tok);
            model_free(&s->base);
            free(s);
            return NULL;
        }
    }
    lexicon_build(&s->words, 1);
    if (assets_dir && load_words(s, assets_dir) != 0) {
        lexicon_free(&s->words);
        if (s->safety) safety_free(s->safety);
        tokenizer_free(&s->tok);
        model_free(&s->base);
        free(s);
        return NULL;
    }
    model_build(&s->policy, s->base.config);
    memcpy(s->policy.param_block, s->base.param_block, s->base.num_params * sizeof(float));
    s->base_id = crc32_update(0, s->base.param_block, s->base.num_params * sizeof(float));
    s->learner = learner_new(&s->policy, &s->base, &s->cfg.learn);
    s->mask = xcalloc((size_t)s->base.config.vocab_size, 1);
    if (s->safety) safety_token_mask(s->safety, &s->tok, s->mask);
    gen_build(&s->gen, &s->policy, &s->tok);
    gen_build(&s->ref_gen, &s->base, &s->tok);
    if (s->words.words) gen_set_words(&s->gen, &s->words);
    step_build(&s->ctx, &s->base.config);
    step_build(&s->ref_ctx, &s->base.config);
    rng_seed(&s->rng, seed);
    rng_seed(&s->candidate_rng, seed ^ 0x9e3779b97f4a7c15ull);
    session_build_reward_model(&s->rm, &s->base.config, cfg->learn.undo_depth);
    running_stat_init(&s->human_stats);
    s->undo = xcalloc(cfg->learn.undo_depth > 0 ? (size_t)cfg->learn.undo_depth : 1, sizeof(UndoEntry));
    return s;
}

void session_free(Session *s) {
    if (!s) return;
    turn_free(&s->turn);
    turn_free(&s->alt);
    gen_free(&s->gen);
    gen_free(&s->ref_gen);
    step_free(&s->ctx);
    step_free(&s->ref_ctx);
    reward_model_free(&s->rm);
    learner_free(s->learner);
    if (s->safety) safety_free(s->safety);
    free(s->mask);
    lexicon_free(&s->words);
    free(s->undo);
    model_free(&s->policy);
    model_free(&s->base);
    tokenizer_free(&s->tok);
    free(s);
}

SessionConfig *session_config(Session *s) { return &s->cfg; }
const Model *session_policy(const Session *s) { return &s->policy; }
const Tokenizer *session_tokenizer(const Session *s) { return &s->tok; }
Learner *session_learner(Session *s) { return s->learner; }
const Turn *session_last_turn(const Session *s) { return s->has_turn ? &s->turn : NULL; }
const Turn *session_alternative(const Session *s) { return s->has_alt ? &s->alt : NULL; }
int session_ratings(const Session *s) { return s->ratings; }
int session_unsaved(const Session *s) { return s->unsaved; }

/* ---- replies ---- */

static void feed_both(Session *s, const int32_t *ids, int n) {
    gen_feed(&s->gen, ids, n);
    gen_feed(&s->ref_gen, ids, n);
}

/* Feeds a message's tokens to both models FEED_CHUNK at a time, until all are fed or *stop
   is set (Ctrl-C; stop may be NULL): a long message took seconds deaf to it. Each chunk
   goes to both before the flag is looked at, so the policy and the base model always read
   the same tokens, as the KL and the updates need. Returns the tokens fed. Chunks leave
   the state bit for bit as one feed does: only the logits of the last token are read. */
static int feed_message(Session *s, const int32_t *ids, int n, volatile sig_atomic_t *stop) {
    int fed = 0;
    while (fed < n && !(stop && *stop)) {
        int k = n - fed < FEED_CHUNK ? n - fed : FEED_CHUNK;
        feed_both(s, ids + fed, k);
        fed += k;
    }
    return fed;
}

/* Penalises a blocked sample: a safety-only reward through the learner. */
static void learn_from_blocked(Session *s, const Reply *r) {
    Episode e;
    episode_init(&e, &s->policy.config, &s->ctx, &s->ref_ctx, r->tokens, r->logprobs, r->policy_logprobs,
                 r->n);
    e.cut |= !r->ended;
    RewardTerms terms = {.safety = -1};
    reward_combine(&terms, &s->cfg.weights);
    e.reward = terms.total;
    UpdateStats st;
    if (learner_penalise(s->learner, &e, &st) == 0) s->unsaved++;
    episode_free(&e);
}

/* Samples one reply from the saved context with the given stream and screens it: returns
   its text (the caller frees it), *blocked, and v when blocked. The policy's state is left
   just after it. */
static char *sample_one(Session *s, Rng *rng, Reply *r, int *blocked, SafetyVerdict *v, TokenFn on_token, void *ctx,
                        volatile sig_atomic_t *stop) {
    int32_t bot = TOK_BOT;
    step_copy(&s->gen.state, &s->ctx, &s->policy.config);
    gen_feed(&s->gen, &bot, 1);
    gen_reply(&s->gen, &s->cfg.sampling, rng, s->mask, s->cfg.max_tokens, r, on_token, ctx, stop);
    char *text = reply_text(&s->tok, r);
    *blocked = s->safety && safety_check(s->safety, text, strlen(text), v);
    return text;
}

/* Samples from the saved context until a reply passes the filter (or the tries run out),
   and fills t. The policy's state is left just after TOK_BOT + the sample's tokens +
   TOK_EOT of the last try; the caller decides what the conversation keeps. */
static void sample_screened(Session *s, Turn *t, TokenFn on_token, void *ctx, volatile sig_atomic_t *stop) {
    int tries = s->cfg.resample_tries > 0 ? s->cfg.resample_tries : 1;
    for (t->tries = 0; t->tries < tries; t->tries++) {
        Reply r;
        SafetyVerdict v;
        int blocked;
        char *text = sample_one(s, &s->rng, &r, &blocked, &v, on_token, ctx, stop);
        if (!blocked) {
            t->text = text;
            t->stopped = r.stopped;
            episode_init(&t->episode, &s->policy.config, &s->ctx, &s->ref_ctx, r.tokens, r.logprobs,
                         r.policy_logprobs, r.n);
            t->episode.cut |= !r.ended; /* stopped or at the length limit */
            /* The base model's pass over the reply, made now while the user reads it, so
               the rating that may follow pays only for its update. */
            learner_fill_ref(s->learner, &t->episode);
            reply_free(&r);
            t->tries++;
            t->blocked = 0;
            return;
        }
        t->verdict = v;
        if (s->cfg.learn_from_blocked) learn_from_blocked(s, &r);
        if (on_token) on_token(ctx, -1);
        free(text);
        reply_free(&r);
        if (stop && *stop) break;
    }
    t->blocked = 1;
    t->text = xstrdup(SESSION_PLACEHOLDER);
}

/* ---- rewards and the candidates they score ---- */

/* Standardising centres the rating on the profile's running mean, which is a baseline.
   REINFORCE, the ablation without one, takes the rating as it is. */
static float human_term(Session *s, float raw, int add) {
    if (s->cfg.learn.algo == ALGO_REINFORCE) return raw;
    return add ? human_standardised(&s->human_stats, raw) : human_z(&s->human_stats, raw);
}

/* The rated replies a reply is compared with for repetition (the learner keeps 32): a line
   the model has taken to saying to every message is caught within a few ratings. */
#define RECENT_REPLIES 16

/* The reward of reply e (text) to the turn's message, with the given human term. */
static void reward_terms(Session *s, const Turn *t, Episode *e, const char *text, float human, RewardTerms *terms) {
    /* One base-model pass, shared by fluency, KL, replay and features: a shown reply had it
       when it was sampled, a candidate gets it here. */
    learner_fill_ref(s->learner, e);
    terms->human = human;
    terms->fluency = fluency_from_logprob(learner_ref_logprob(s->learner, e));
    terms->relevance = relevance_score(&s->base, t->prompt_tokens, t->n_prompt, e->tokens, e->n);
    float repeated = learner_recent_overlap(s->learner, e->tokens, e->n, RECENT_REPLIES);
    terms->informativeness = informativeness_score(e->tokens, e->n, text, repeated);
    terms->safety = 0; /* it passed the filter */
    reward_combine(terms, &s->cfg.weights);
}

/* Samples the turn's candidates: up to k replies to its context that nobody will see,
   from the policy that sampled the reply. Each is screened (a blocked one is dropped) and
   gets the base model's pass and its automatic reward terms now, so the rating only adds
   the guessed human term. A stop request (Ctrl-C) ends the sampling and drops the
   candidate it cut short. The policy's state is left after the last candidate:
   commit_reply, called next, rebuilds the conversation's from the saved context. */
static void sample_candidates(Session *s, Turn *t, int k, volatile sig_atomic_t *stop) {
    t->candidates = xcalloc((size_t)k, sizeof(Episode));
    t->candidate_terms = xcalloc((size_t)k, sizeof(RewardTerms));
    for (int i = 0; i < k; i++) {
        Reply r;
        SafetyVerdict v;
        int blocked;
        char *text = sample_one(s, &s->candidate_rng, &r, &blocked, &v, NULL, NULL, stop);
        if (r.stopped) {
            free(text);
            reply_free(&r);
            break;
        }
        if (!blocked) {
            Episode *e = &t->candidates[t->n_candidates];
            episode_init(e, &s->policy.config, &s->ctx, &s->ref_ctx, r.tokens, r.logprobs, r.policy_logprobs,
                         r.n);
            e->cut |= !r.ended;
            reward_terms(s, t, e, text, 0, &t->candidate_terms[t->n_candidates]);
            t->n_candidates++;
        }
        free(text);
        reply_free(&r);
    }
}

/* The reward of a reply with the given automatic terms, its human term guessed by the
   reward model. */
static float guessed_reward(Session *s, const Episode *e, RewardTerms terms) {
    terms.human = human_term(s, reward_model_predict(&s->rm, e->features), 0);
    reward_combine(&terms, &s->cfg.weights);
    return terms.total;
}

/* How far the policy has moved toward reply e from the base: log pi - log pi_base per
   step of e (learner_mean_log_ratio). The policy that maximises the expected reward less
   beta times the KL to the base is the base tilted by exp(R / beta), so beta times the
   summed log-ratio is the reward the policy has taken from its ratings so far (DPO reads a
   policy so). The mean, not that sum: with the entropy bonus the policy also gains on
   tokens nobody rated, and a sum grows with every such token, so it chose long, unlikely
   replies; the mean ranks replies by how far the policy moved toward their tokens,
   whatever their length. It needs no reward model, and it tells from the first ratings
   on. The policy's log-probabilities are its own untempered ones when it sampled e
   (policy_lp, not the tempered behaviour_lp), on the half-precision weights the replies
   are drawn with (halfstep.h): before any update they differ from the base model's
   full-precision pass by under 1e-4 nats a reply. */
static float learned_preference(Session *s, const Episode *e) {
    return learner_mean_log_ratio(s->learner, e, e->policy_lp);
}

/* Who chooses the reply shown, and among how many. */
typedef enum { JUDGE_NONE, JUDGE_POLICY, JUDGE_REWARD_MODEL } Judge;

/* Under the full learner, once the reward model predicts ratings it has not seen, it
   chooses among best_of; before then, once a rating has moved the policy, the policy's own
   preference (learned_preference) chooses among best_of_by_policy. Otherwise, or with 1,
   nobody: the policy's first sample is shown, streamed as it comes. The choice starts at
   the first rating, not at the first liked and disliked pair, which learned a liked word
   more slowly (docs/experiments.md). */
static Judge choose_judge(const Session *s, int *among) {
    Judge j = s->cfg.learn.algo != ALGO_FULL ? JUDGE_NONE
              : reward_model_trust(&s->rm) > 0         ? JUDGE_REWARD_MODEL
              : s->ratings > 0               ? JUDGE_POLICY
                                             : JUDGE_NONE;
    *among = j == JUDGE_REWARD_MODEL ? s->cfg.best_of : j == JUDGE_POLICY ? s->cfg.best_of_by_policy : 1;
    return *among > 1 ? j : JUDGE_NONE;
}

/* Shows the reply of the turn's sample and its candidates with the highest score (a tie
   keeps the sample). The reward model's score is the guessed reward: the rating guessed,
   and the automatic terms, so a short generic line the user might rate well still pays
   for being generic or said before. The policy's is what it has learned
   (learned_preference): the choice shows the way the ratings moved the policy, further
   than the policy's own few small steps went. That candidate and the sample trade places.
   The reply is then streamed whole. */
static void show_best(Session *s, Turn *t, Judge judge, TokenFn on_token, void *ctx) {
    RewardTerms sample_terms;
    reward_terms(s, t, &t->episode, t->text, 0, &sample_terms);
    int by_reward_model = judge == JUDGE_REWARD_MODEL, best = -1;
    float top = by_reward_model ? guessed_reward(s, &t->episode, sample_terms) : learned_preference(s, &t->episode);
    for (int i = 0; i < t->n_candidates; i++) {
        const Episode *c = &t->candidates[i];
        float score = by_reward_model ? guessed_reward(s, c, t->candidate_terms[i]) : learned_preference(s, c);
        if (score > top) top = score, best = i;
    }
    if (best >= 0) {
        Episode sample = t->episode;
        t->episode = t->candidates[best];
        t->candidates[best] = sample;
        t->candidate_terms[best] = sample_terms;
        free(t->text);
        Reply shown = {.tokens = t->episode.tokens, .n = t->episode.n};
        t->text = reply_text(&s->tok, &shown);
    }
    if (on_token)
        for (int i = 0; i < t->episode.n; i++) on_token(ctx, t->episode.tokens[i]);
}

/* Drops the candidates past the first n: those sampled only to choose the reply shown. */
static void keep_candidates(Turn *t, int n) {
    for (; t->n_candidates > n; t->n_candidates--) episode_free(&t->candidates[t->n_candidates - 1]);
}

/* Moves both conversations past the reply t shows (an empty reply when blocked). */
static void commit_reply(Session *s, const Turn *t) {
    int n = t->blocked ? 0 : t->episode.n;
    int32_t *ids = xmalloc((size_t)(n + 2) * sizeof(int32_t));
    ids[0] = TOK_BOT;
    if (n) memcpy(ids + 1, t->episode.tokens, (size_t)n * sizeof(int32_t));
    ids[n + 1] = TOK_EOT;
    step_copy(&s->gen.state, &s->ctx, &s->policy.config);
    step_copy(&s->ref_gen.state, &s->ref_ctx, &s->base.config);
    feed_both(s, ids, n + 2);
    free(ids);
}

const Turn *session_say(Session *s, const char *text, size_t len, TokenFn on_token, void *ctx,
                        volatile sig_atomic_t *stop) {
    turn_free(&s->turn);
    turn_free(&s->alt);
    s->has_alt = 0;
    if (len > SESSION_MESSAGE_MAX) { /* a huge paste: the model sees its end */
        text += len - SESSION_MESSAGE_MAX;
        len = SESSION_MESSAGE_MAX;
    }
    Turn *t = &s->turn;
    t->prompt = xmalloc(len + 1);
    memcpy(t->prompt, text, len);
    t->prompt[len] = 0;
    size_t n;
    int32_t *ids = tokenizer_encode(&s->tok, text, len, &n);
    t->prompt_tokens = ids;
    int32_t user = TOK_USER, eot = TOK_EOT;
    gen_hear(&s->gen, text, len);
    feed_both(s, &user, 1);
    /* A stop while the message is read keeps the part read as the message, closed by
       TOK_EOT as a whole one is: the conversation stays in the chat format, and the turn
       is a stopped one with an empty reply (the stop ends the sampling at once), as when
       the stop comes just after the feed. Undoing the part read instead would need a copy
       of both states and a turn with no reply, which every caller would have to know. */
    t->n_prompt = feed_message(s, ids, (int)n, stop);
    t->cut = t->n_prompt < (int)n;
    feed_both(s, &eot, 1);
    step_copy(&s->ctx, &s->gen.state, &s->policy.config);
    step_copy(&s->ref_ctx, &s->ref_gen.state, &s->base.config);
    int full = s->cfg.learn.algo == ALGO_FULL;
    int learned = full && s->cfg.sample_candidates ? s->cfg.learn.candidates : 0;
    int among;
    Judge judge = choose_judge(s, &among); /* a chosen reply is streamed once chosen */
    int k = among - 1 > learned ? among - 1 : learned;
    k = k < SESSION_MAX_CANDIDATES ? k : SESSION_MAX_CANDIDATES;
    sample_screened(s, t, judge ? NULL : on_token, ctx, stop);
    if (!t->blocked && k > 0 && !(stop && *stop)) sample_candidates(s, t, k, stop);
    if (judge && !t->blocked) show_best(s, t, judge, on_token, ctx);
    keep_candidates(t, learned);
    commit_reply(s, t);
    s->has_turn = 1;
    return t;
}

const Turn *session_regenerate(Session *s, TokenFn on_token, void *ctx, volatile sig_atomic_t *stop) {
    if (!s->has_turn) {
        err_set("nothing to regenerate yet: say something first");
        return NULL;
    }
    turn_free(&s->alt);
    s->alt.prompt = xstrdup(s->turn.prompt);
    s->alt.prompt_tokens = xmalloc((size_t)(s->turn.n_prompt + 1) * sizeof(int32_t));
    memcpy(s->alt.prompt_tokens, s->turn.prompt_tokens, (size_t)s->turn.n_prompt * sizeof(int32_t));
    s->alt.n_prompt = s->turn.n_prompt;
    sample_screened(s, &s->alt, on_token, ctx, stop);
    commit_reply(s, &s->turn); /* the conversation keeps reply a until one is preferred */
    s->has_alt = 1;
    return &s->alt;
}

/* ---- ratings ---- */

int session_rate(Session *s, float human, RatingResult *out) {
    double t0 = now_seconds();
    memset(out, 0, sizeof *out);
    if (!s->has_turn) {
        err_set("nothing to rate yet: say something first");
        return -1;
    }
    Turn *t = &s->turn;
    if (t->blocked) {
        err_set("the last reply was withheld by the safety filter; there is nothing to rate");
        return -1;
    }
    if (t->rated) {
        err_set("the last reply is already rated (u undoes the rating)");
        return -1;
    }
    Episode *e = &t->episode;
    RunningStat before = s->human_stats;
    reward_terms(s, t, e, t->text, human_term(s, human, 1), &out->terms);
    e->reward = out->terms.total;
    out->predicted_human = reward_model_predict(&s->rm, e->features);
    reward_model_add(&s->rm, e->features, human);
    /* The candidates' guessed ratings come from the reward model that has just seen this
       one; the learner believes them as far as the model predicts ratings it has not seen. */
    for (int i = 0; i < t->n_candidates; i++)
        t->candidates[i].reward = guessed_reward(s, &t->candidates[i], t->candidate_terms[i]);
    out->trust = reward_model_trust(&s->rm);
    if (learner_update_group(s->learner, e, t->candidates, t->n_candidates, out->trust, &out->update) != 0) {
        reward_model_pop(&s->rm);
        s->human_stats = before; /* a rolled-back rating leaves no trace */
        out->ms = (now_seconds() - t0) * 1e3;
        return -1;
    }
    push_undo(s, UPDATE_RATING, &before);
    t->rated = 1;
    s->ratings++;
    s->unsaved++;
    out->ms = (now_seconds() - t0) * 1e3;
    return 0;
}

float session_reply_logprob(Session *s, float *mean_kl) {
    *mean_kl = 0;
    if (!s->has_turn || s->turn.blocked) return 0;
    return learner_logprob(s->learner, &s->turn.episode, mean_kl);
}

int session_can_undo(const Session *s) { return s->n_undo > 0; }

int session_undo(Session *s) {
    if (!session_can_undo(s)) { /* ratings beyond the undo ring's reach are kept: say why */
        if (s->ratings > 0) err_set("nothing more to undo: undo reaches back %d ratings", s->cfg.learn.undo_depth);
        else err_set("nothing to undo");
        return -1;
    }
    /* Safety penalties made after the rating go too (learner_undo): the state returns to
       before it. */
    UndoEntry u = s->undo[--s->n_undo];
    learner_undo(s->learner);
    if (u.kind == UPDATE_RATING) reward_model_pop(&s->rm); /* the reward model forgets the rating too */
    s->human_stats = u.human_stats;
    s->ratings--;
    s->unsaved++;
    if (s->has_turn) s->turn.rated = 0;
    return 0;
}

void session_digest(const Session *s, SessionDigest *d) {
    learner_digest(s->learner, &d->learner);
    const RunningStat *h = &s->human_stats;
    double stats[3] = {h->n, h->mean, h->m2};
    d->human_stats = crc32_update(0, stats, sizeof stats);
    /* The fit, not every example held: the spare slots kept for undo are not read. */
    const RewardModel *m = &s->rm;
    d->reward_model = crc32_update(0, m->w, (size_t)m->dim * sizeof(float));
    d->reward_model = crc32_update(d->reward_model, m->mean_x, (size_t)m->dim * sizeof(float));
    d->reward_model = crc32_update(d->reward_model, &m->mean_y, sizeof m->mean_y);
    d->reward_model = crc32_update(d->reward_model, &m->loo_r2, sizeof m->loo_r2);
    d->reward_model = crc32_update(d->reward_model, &m->fitted, sizeof m->fitted);
    if (m->fitted >= 2) /* below two examples the fit sets no blocks, and none are read */
        d->reward_model = crc32_update(d->reward_model, &m->blocks_used, sizeof m->blocks_used);
    d->ratings = s->ratings;
}

int session_prefer(Session *s, int which, RatingResult *out) {
    memset(out, 0, sizeof *out);
    if (!s->has_alt) {
        err_set("no alternative to choose from: press r to regenerate first");
        return -1;
    }
    if (s->turn.blocked || s->alt.blocked) {
        err_set("one of the replies was withheld by the safety filter; nothing to compare");
        return -1;
    }
    Turn *chosen = which ? &s->alt : &s->turn, *rejected = which ? &s->turn : &s->alt;
    if (learner_prefer(s->learner, &chosen->episode, &rejected->episode, &out->update) != 0) return -1;
    out->ms = out->update.ms;
    push_undo(s, UPDATE_PREFERENCE, &s->human_stats);
    s->ratings++;
    s->unsaved++;
    commit_reply(s, chosen);
    if (which) { /* the chosen reply becomes the turn */
        Turn tmp = s->turn;
        s->turn = s->alt;
        s->alt = tmp;
    }
    turn_free(&s->alt);
    s->has_alt = 0;
    s->turn.rated = 1;
    return 0;
}

int session_teach(Session *s, const char *text, size_t len, RatingResult *out) {
    memset(out, 0, sizeof *out);
    Turn *t = &s->turn;
    size_t start = 0;
    while (start < len && (text[start] == ' ' || text[start] == '\t')) start++;
    if (!s->has_turn) err_set("nothing to edit yet: say something first");
    else if (t->blocked) err_set("the last reply was withheld by the safety filter; there is nothing to edit");
    else if (t->rated) err_set("the last reply is already rated (u undoes the rating)");
    else if (start == len) err_set("the edited reply is empty");
    else {
        SafetyVerdict v;
        if (s->safety && safety_check(s->safety, text, len, &v)) {
            err_set("the safety filter blocks the edited reply; nothing was learned");
            return -1;
        }
        size_t n;
        int32_t *ids = tokenizer_encode(&s->tok, text, len, &n);
        Episode written;
        episode_init(&written, &s->policy.config, &s->ctx, &s->ref_ctx, ids, NULL, NULL, (int)n);
        free(ids);
        learner_fill_ref(s->learner, &written);
        if (learner_teach(s->learner, &written, &t->episode, &out->update) != 0) {
            episode_free(&written);
            return -1;
        }
        out->ms = out->update.ms;
        push_undo(s, UPDATE_PREFERENCE, &s->human_stats);
        s->ratings++;
        s->unsaved++;
        /* The written reply takes the shown one's place, in the conversation too. */
        episode_free(&t->episode);
        t->episode = written;
        free(t->text);
        t->text = xmalloc(len + 1);
        memcpy(t->text, text, len);
        t->text[len] = 0;
        t->rated = 1;
        commit_reply(s, t);
        turn_free(&s->alt);
        s->has_alt = 0;
        return 0;
    }
    return -1;
}

/* ---- conversation and model ---- */

void session_clear(Session *s) {
    gen_reset(&s->gen);
    gen_reset(&s->ref_gen);
    turn_free(&s->turn);
    turn_free(&s->alt);
    s->has_turn = s->has_alt = 0;
}

void session_reset(Session *s) {
    memcpy(s->policy.param_block, s->base.param_block, s->base.num_params * sizeof(float));
    s->policy.version++;
    learner_free(s->learner);
    s->learner = learner_new(&s->policy, &s->base, &s->cfg.learn);
    running_stat_init(&s->human_stats);
    reward_model_clear(&s->rm);
    s->n_undo = 0;
    s->ratings = 0;
    s->unsaved = 0;
    session_clear(s);
}

/* ---- profiles ---- */

typedef struct {
    uint32_t base_id;     /* CRC of the base model's weights */
    int32_t ratings;      /* ratings given */
    double stat_n, stat_mean, stat_m2; /* human rating statistics */
} SessionRecord;

int session_save(Session *s, const char *path) {
    Buf b = {0};
    SessionRecord rec;
    memset(&rec, 0, sizeof rec);
    rec.base_id = s->base_id, rec.ratings = s->ratings;
    rec.stat_n = s->human_stats.n, rec.stat_mean = s->human_stats.mean, rec.stat_m2 = s->human_stats.m2;
    ckpt_begin(&b);
    ckpt_put(&b, TAG_SESS, &rec, sizeof rec);
    ckpt_put(&b, TAG_BASE, s->base_name, strlen(s->base_name));
    ckpt_put_model(&b, &s->policy, &s->tok, 0);
    learner_save(s->learner, &b);
    reward_model_save(&s->rm, &b);
    if (ckpt_write(path, &b) != 0) return -1;
    s->unsaved = 0;
    return 0;
}

/* The session record and base name of an open profile file; -1 with err_msg() when it is
   not a profile. name gets "" when the profile predates recording it. */
static int read_record(const CkptFile *f, const char *path, SessionRecord *rec, char *name, size_t n) {
    size_t len;
    const uint8_t *p = ckpt_find(f, TAG_SESS, &len);
    if (!p || len != sizeof *rec) {
        err_set("%s: not an rlchat profile", path);
        return -1;
    }
    memcpy(rec, p, sizeof *rec);
    p = ckpt_find(f, TAG_BASE, &len);
    if (!p) len = 0;
    if (len >= n) len = n - 1;
    memcpy(name, p ? (const char *)p : "", len);
    name[len] = 0;
    return 0;
}

int session_profile_base(const char *path, uint32_t *base_id, char *name, size_t n) {
    CkptFile f;
    SessionRecord rec;
    if (ckpt_open(&f, path) != 0) return -1;
    int rc = read_record(&f, path, &rec, name, n);
    if (rc == 0) *base_id = rec.base_id;
    ckpt_close(&f);
    return rc;
}

int session_model_id(const char *model_path, uint32_t *id) {
    Model m;
    Tokenizer t;
    if (model_load(model_path, &m, &t) != 0) return -1;
    *id = crc32_update(0, m.param_block, m.num_params * sizeof(float));
    model_free(&m);
    tokenizer_free(&t);
    return 0;
}

/* Everything is checked before anything changes: a bad profile leaves the session as it was. */
int session_load(Session *s, const char *path) {
    CkptFile f;
    Model m;
    Tokenizer t;
    SessionRecord rec;
    char made_on[256];
    if (ckpt_open(&f, path) != 0) return -1;
    if (read_record(&f, path, &rec, made_on, sizeof made_on) != 0) goto err;
    if (rec.base_id != s->base_id) {
        err_set("%s was made on the base model %s (weights %08x), not on %s (%08x)", path,
                made_on[0] ? made_on : "of an earlier rlchat", rec.base_id, s->base_name, s->base_id);
        ckpt_close(&f);
        return SESSION_OTHER_BASE;
    }
    if (ckpt_get_model(&f, &m, &t) != 0) goto err;
    int rc = -1;
    RewardModel rm;
    session_build_reward_model(&rm, &s->base.config, s->cfg.learn.undo_depth);
    if (m.num_params != s->policy.num_params || memcmp(&m.config, &s->policy.config, sizeof m.config)) {
        err_set("%s: the profile's model has a different shape from the base", path);
    } else if (reward_model_load(&rm, &f) == 0 && learner_load(s->learner, &f) == 0) { /* each checks, then changes */
        RewardModel old = s->rm;
        s->rm = rm, rm = old; /* the old one is freed below */
        memcpy(s->policy.param_block, m.param_block, m.num_params * sizeof(float));
        s->policy.version++;
        s->human_stats.n = rec.stat_n, s->human_stats.mean = rec.stat_mean, s->human_stats.m2 = rec.stat_m2;
        s->ratings = rec.ratings;
        s->unsaved = 0;
        s->n_undo = 0;
        session_clear(s);
        rc = 0;
    }
    reward_model_free(&rm);
    model_free(&m);
    tokenizer_free(&t);
    ckpt_close(&f);
    return rc;
err:
    ckpt_close(&f);
    return -1;
}
