/* test_session: the turn loop every front end uses. A tiny model trained here to say a
   blocked phrase shows that blocked replies are resampled, penalised and, when every try
   is blocked, replaced by the placeholder; that masked tokens never reach a reply; that
   no shown reply fails the filter; which learners standardise the rating; that the
   best of several samples shows the kind of reply the ratings liked; and that replies keep
   to the word list and the user's words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/checkpoint.h"
#include "model/trainer.h"
#include "rl/session.h"
#include "tests/check.h"

static char dir[64];

/* Trains a tiny model on dialogues whose second turn is one of the given replies and saves
   it as dir/NAME; the assets folder gets a blocklist with the given entries. */
static void make_model(const char *name, const char **replies, int n_replies) {
    Buf text = {0};
    for (int k = 0; k < 60; k++) {
        const char *r = replies[k % n_replies];
        buf_put(&text, "hi\n", 3);
        buf_put(&text, r, strlen(r));
        buf_put(&text, "\n\n", 2);
    }
    Tokenizer tok = {0};
    tokenizer_train(&tok, (const char *)text.data, text.len, 320);
    Config c = {.vocab_size = tok.vocab_size, .embed_dim = 16, .hidden_dim = 32, .num_layers = 1};
    Model m;
    model_build(&m, c);
    model_init_weights(&m, 3);
    size_t n;
    int32_t *ids = corpus_encode(&tok, (const char *)text.data, text.len, &n);
    TrainConfig tc = {.batch = 2, .seq = 16, .lr = 1e-2f, .lr_min_frac = 0.1f, .warmup = 5, .clip = 1, .total_steps = 400};
    Trainer tr;
    trainer_build(&tr, &m, &tc, ids, n);
    while (tr.step < tc.total_steps) trainer_step(&tr);
    Buf file = {0};
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ckpt_begin(&file);
    ckpt_put_model(&file, &m, &tok, 0);
    CHECK(ckpt_write(path, &file) == 0, "saving the fixture model: %s", err_msg());
    trainer_free(&tr);
    free(ids);
    model_free(&m);
    tokenizer_free(&tok);
    buf_free(&text);
}

static void write_blocklist(const char *entries) {
    char path[128];
    snprintf(path, sizeof path, "%s/blocklist.txt", dir);
    FILE *f = fopen(path, "w");
    fputs(entries, f);
    fclose(f);
}

/* A session on dir/NAME with the given settings, the filter from dir; NULL (a failed
   check) when it cannot open. */
static Session *open_session_with(const char *name, const SessionConfig *cfg) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    Session *s = session_new(path, dir, cfg, 42);
    CHECK(s != NULL, "session_new: %s", err_msg());
    return s;
}

static Session *open_session(const char *name, int tries) {
    SessionConfig cfg = session_default_config();
    cfg.resample_tries = tries;
    return open_session_with(name, &cfg);
}

static void test_reply_blocked_every_time_gives_the_placeholder_and_is_penalised(void) {
    const char *replies[] = {"i want a banana split"};
    make_model("always.model", replies, 1);
    write_blocklist("food 2 banana split\n");
    Session *s = open_session("always.model", 3);
    if (!s) return;
    const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
    CHECK(t->blocked, "a reply of the blocked phrase was shown: '%s'", t->text);
    CHECK(!strcmp(t->text, SESSION_PLACEHOLDER), "placeholder not shown: '%s'", t->text);
    CHECK(t->tries == 3, "%d tries, expected 3", t->tries);
    CHECK(!strcmp(t->verdict.entry, "banana split"), "reason names '%s'", t->verdict.entry);
    CHECK(learner_updates(session_learner(s)) == 3, "%lld penalty updates, expected 3",
          (long long)learner_updates(session_learner(s)));
    RatingResult r;
    CHECK(session_rate(s, 1, &r) != 0, "rating a withheld reply was accepted");
    session_free(s);
}

static void test_blocked_reply_is_resampled_and_no_shown_reply_is_blocked(void) {
    const char *replies[] = {"i want a banana split", "i want an apple pie"};
    make_model("mixed.model", replies, 2);
    write_blocklist("food 2 banana split\n");
    Session *s = open_session("mixed.model", 8);
    if (!s) return;
    Safety *filter = safety_load(dir);
    int resampled = 0, leaked = 0, shown = 0;
    for (int k = 0; k < 40; k++) {
        session_clear(s);
        const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
        resampled += t->tries > 1;
        if (!t->blocked) {
            SafetyVerdict v;
            shown++;
            leaked += safety_check(filter, t->text, strlen(t->text), &v);
        }
    }
    CHECK(resampled > 0, "no reply needed a second try");
    CHECK(shown > 30, "only %d of 40 turns had a reply", shown);
    CHECK(leaked == 0, "%d shown replies fail the filter", leaked);
    safety_free(filter);
    session_free(s);
}

static void test_masked_word_tokens_never_appear_in_replies(void) {
    const char *replies[] = {"you idiot", "you idiot idiot"};
    make_model("insult.model", replies, 2);
    write_blocklist("insult 2 idiot\n");
    Session *s = open_session("insult.model", 2);
    if (!s) return;
    const Tokenizer *tok = session_tokenizer(s);
    size_t n;
    int32_t *ids = tokenizer_encode(tok, " idiot", 6, &n);
    CHECK(n == 1, "' idiot' is %zu tokens in the fixture vocabulary; the test needs one", n);
    int hits = 0;
    for (int k = 0; k < 30; k++) {
        session_clear(s);
        const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
        for (int i = 0; i < t->episode.n; i++) hits += t->episode.tokens[i] == ids[0];
        CHECK(t->blocked || strstr(t->text, "idiot") == NULL, "shown: '%s'", t->text);
    }
    CHECK(hits == 0, "the masked token was sampled %d times", hits);
    free(ids);
    session_free(s);
}

/* Standardising the rating centres it on the profile's running mean, a baseline: the
   learners with a baseline get it, REINFORCE (the ablation without one) the rating itself. */
static float second_human_term(Algo algo) {
    SessionConfig cfg = session_default_config();
    cfg.learn.algo = algo;
    Session *s = open_session_with("insult.model", &cfg);
    if (!s) return 0;
    RatingResult r = {0};
    for (int k = 0; k < 2; k++) {
        session_say(s, "hi", 2, NULL, NULL, NULL);
        CHECK(session_rate(s, 1.0f, &r) == 0, "rating: %s", err_msg());
    }
    session_free(s);
    return r.terms.human;
}

static void test_reinforce_takes_the_rating_as_it_is_and_the_rest_standardise_it(void) {
    float raw = second_human_term(ALGO_REINFORCE), standardised = second_human_term(ALGO_FULL);
    CHECK(raw == 1.0f, "reinforce's second +1 rating became %.4f", raw);
    CHECK(standardised > 0 && standardised < 0.9f, "full's second +1 rating became %.4f (standardised: about 0.82)",
          standardised);
}

/* With candidates on, a rating also learns from unseen replies, blocked ones dropped, and
   a stopped reply samples none; undo takes back the weights and the reward model's example
   alike: rated again, the same reply gets the same guess it got the first time. */
static void test_candidates_are_screened_and_undo_takes_back_the_reward_model_too(void) {
    write_blocklist("food 2 banana split\n"); /* half its replies */
    SessionConfig cfg = session_default_config();
    cfg.learn.candidates = 3;
    Session *s = open_session_with("mixed.model", &cfg);
    if (!s) return;
    RatingResult r;
    int rated = 0, learned = 0;
    const Turn *t = NULL;
    for (int k = 0; k < 12; k++) {
        t = session_say(s, "hi", 2, NULL, NULL, NULL);
        if (t->blocked) continue;
        CHECK(session_rate(s, k % 2 ? 1.0f : -1.0f, &r) == 0, "rating: %s", err_msg());
        CHECK(t->n_candidates <= 3, "%d candidates from 3 samples", t->n_candidates);
        rated++, learned += t->n_candidates;
    }
    CHECK(rated >= 4 && learned > 0 && learned < 3 * rated,
          "%d candidates learned from over %d ratings: none, or the blocked ones too", learned, rated);
    volatile sig_atomic_t stop = 1; /* Ctrl-C: the reply stops, and no candidates are sampled */
    t = session_say(s, "hi", 2, NULL, NULL, &stop);
    CHECK(t->stopped && t->n_candidates == 0, "stopped reply: stopped %d, %d candidates", t->stopped,
          t->n_candidates);
    t = session_say(s, "hi", 2, NULL, NULL, NULL);
    for (int k = 0; k < 10 && t->blocked; k++) t = session_say(s, "hi", 2, NULL, NULL, NULL);
    const Model *m = session_policy(s);
    float *before = xmalloc(m->num_params * sizeof(float));
    memcpy(before, m->param_block, m->num_params * sizeof(float));
    CHECK(session_rate(s, 1, &r) == 0, "rating: %s", err_msg());
    float guess = r.predicted_human;
    CHECK(session_undo(s) == 0, "undo: %s", err_msg());
    CHECK(!memcmp(before, m->param_block, m->num_params * sizeof(float)), "undo did not restore the weights");
    CHECK(session_rate(s, 1, &r) == 0, "rating again: %s", err_msg());
    CHECK(r.predicted_human == guess, "guessed %.6f the first time, %.6f after the undo", guess, r.predicted_human);
    free(before);
    session_free(s);
}

/* A shown reply gets the base model's pass when it is sampled, so that a rating pays only
   for its update; session_reply_logprob shows what the rating did: before any update the
   policy is the base (KL 0), and after a liked rating the reply is more likely and the
   policy has left the base on it. */
static void test_a_liked_reply_gains_and_the_policy_leaves_the_base(void) {
    write_blocklist("food 2 no such words here\n");
    Session *s = open_session("mixed.model", 1);
    if (!s) return;
    const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
    CHECK(!t->blocked && t->episode.ref_logp != NULL, "the shown reply has no base-model pass yet");
    float kl_before, kl_after, before = session_reply_logprob(s, &kl_before);
    CHECK(kl_before == 0, "KL %.3g to the base before any update", kl_before);
    RatingResult r;
    CHECK(session_rate(s, 1, &r) == 0, "rating: %s", err_msg());
    float after = session_reply_logprob(s, &kl_after);
    CHECK(after > before && kl_after > 0, "liked reply: log p %.4f -> %.4f, KL %.3g", before, after, kl_after);
    /* Two code paths (the update's batched pass, the session's steps): equal to rounding. */
    CHECK(fabsf(r.update.logprob_before - before) <= 1e-4f * fmaxf(1, fabsf(before)),
          "the update saw log p %.6f, the session %.6f", r.update.logprob_before, before);
    session_free(s);
}

/* The share of replies that hold "apple" after the first 10 of `turns`, each rated +1
   when it does and -1 when not, by a session that shows the best of best_of samples; the
   policy stays the base (step size 0), so only the reward model's choice of the reply
   shown can move the share. */
static double apple_share(int best_of, int turns) {
    SessionConfig cfg = session_default_config();
    cfg.best_of = best_of;
    cfg.best_of_by_policy = 1;
    cfg.learn.lr = 0;
    Session *s = open_session_with("mixed.model", &cfg);
    if (!s) return 0;
    int liked = 0;
    for (int k = 0; k < turns; k++) {
        session_clear(s);
        const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
        int apple = strstr(t->text, "apple") != NULL;
        RatingResult r;
        CHECK(session_rate(s, apple ? 1.0f : -1.0f, &r) == 0, "rating: %s", err_msg());
        CHECK(t->n_candidates == 0, "%d candidates kept for the learner, which takes none", t->n_candidates);
        liked += apple && k >= 10;
    }
    session_free(s);
    return (double)liked / (turns - 10);
}

/* Showing the best of 4 by the reward model's guess: once it has learned from a few
   ratings which replies are liked, the liked kind is shown far more often than the
   policy's own share of it (about half). */
static void test_best_of_shows_the_reply_the_reward_model_guesses_is_liked(void) {
    write_blocklist("food 2 no such words here\n");
    double one = apple_share(1, 40), four = apple_share(4, 40);
    CHECK(four > one + 0.2 && four > 0.75, "liked share of shown replies: %.2f of the best of 4, %.2f of one", four,
          one);
}

/* The share of "apple" in 60 replies shown after two ratings, a liked reply that holds
   it and a disliked one that does not: too few for the reward model to be believed (it
   wants 3), so the reply shown is the policy's first sample, or with best_of_by_policy
   the one of that many samples the policy has moved toward most from the base. */
static double apple_share_after_two_ratings(int best_of_by_policy) {
    SessionConfig cfg = session_default_config();
    cfg.best_of_by_policy = best_of_by_policy;
    Session *s = open_session_with("mixed.model", &cfg);
    if (!s) return 0;
    RatingResult r = {0};
    int liked = 0, disliked = 0;
    for (int k = 0; k < 40 && !(liked && disliked); k++) {
        session_clear(s);
        const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
        int apple = strstr(t->text, "apple") != NULL;
        if (apple ? liked : disliked) continue;
        CHECK(session_rate(s, apple ? 1.0f : -1.0f, &r) == 0, "rating: %s", err_msg());
        liked += apple, disliked += !apple;
    }
    CHECK(liked && disliked && r.trust == 0, "liked %d, disliked %d, the reward model believed (%.2f)", liked,
          disliked, r.trust);
    int shown = 0;
    for (int k = 0; k < 60; k++) {
        session_clear(s);
        shown += strstr(session_say(s, "hi", 2, NULL, NULL, NULL)->text, "apple") != NULL;
    }
    session_free(s);
    return shown / 60.0;
}

/* Before the reward model can be believed, the policy's own learning chooses: after one
   liked "apple" reply and one disliked other, the best of 8 by how far the policy has
   moved toward a reply shows "apple" far more often than the policy's samples hold it
   (about half). Before any rating nothing is chosen: two sessions alike but for the
   choice show the same replies. */
static void test_before_the_reward_model_is_believed_the_policy_chooses(void) {
    write_blocklist("food 2 no such words here\n");
    double one = apple_share_after_two_ratings(1), eight = apple_share_after_two_ratings(8);
    CHECK(eight > one + 0.2 && eight > 0.8, "liked share of shown replies: %.2f of the best of 8, %.2f of one",
          eight, one);
    SessionConfig cfg = session_default_config();
    Session *chooser = open_session_with("mixed.model", &cfg);
    cfg.best_of_by_policy = 1;
    Session *sampler = open_session_with("mixed.model", &cfg);
    if (!chooser || !sampler) return;
    for (int k = 0; k < 8; k++) {
        const char *a = session_say(chooser, "hi", 2, NULL, NULL, NULL)->text;
        const char *b = session_say(sampler, "hi", 2, NULL, NULL, NULL)->text;
        CHECK(!strcmp(a, b), "turn %d before any rating: shown '%s', the first sample '%s'", k, a, b);
    }
    session_free(chooser);
    session_free(sampler);
}

/* Ctrl-C while a long message is read: with the stop set the model reads no more of it (the
   feed looks at the flag between chunks; it used to read it all, seconds for a long paste),
   and the turn is a stopped one with an empty reply. The conversation goes on from it: the
   next message is read whole, the policy and the base model have read the same tokens (KL 0
   before any update), and the reply can be rated. */
static void test_a_stop_ends_the_reading_of_a_long_message(void) {
    const char *replies[] = {"i like long walks"};
    make_model("reader.model", replies, 1);
    write_blocklist("food 2 no such words here\n");
    Session *s = open_session("reader.model", 4);
    if (!s) return;
    char msg[3000];
    for (size_t i = 0; i + 1 < sizeof msg; i++) msg[i] = "hi there "[i % 9];
    msg[sizeof msg - 1] = 0;
    size_t n;
    free(tokenizer_encode(session_tokenizer(s), msg, strlen(msg), &n));
    volatile sig_atomic_t stop = 1;
    const Turn *t = session_say(s, msg, strlen(msg), NULL, NULL, &stop);
    CHECK(t->n_prompt < (int)n, "after the stop the model read %d of the message's %zu tokens", t->n_prompt, n);
    CHECK(t->stopped && t->episode.n == 0, "the reply to a message cut short is not an empty, stopped one");
    stop = 0;
    t = session_say(s, msg, strlen(msg), NULL, NULL, &stop);
    CHECK(t->n_prompt == (int)n && !t->stopped, "the next message was not read whole: %d of %zu tokens", t->n_prompt, n);
    float kl;
    session_reply_logprob(s, &kl);
    CHECK(kl == 0, "the policy and the base model read different tokens: KL %g before any update", kl);
    RatingResult r;
    CHECK(session_rate(s, 1.0f, &r) == 0, "rating the reply after a cut message: %s", err_msg());
    session_free(s);
}

/* Teaching by example: the user's version of a reply is learned over the one shown, so
   it becomes more likely than before (the direction of the update); it takes the shown
   reply's place; an empty or blocked version teaches nothing; undo restores the weights
   bit for bit. The log-probability before is read from a twin session whose step size is
   0: same seed, same reply, no movement. */
static void test_a_reply_the_user_rewrites_is_learned_and_undone(void) {
    write_blocklist("food 2 banana split\n");
    const char *mine = "i like apples and pears";
    SessionConfig frozen_cfg = session_default_config();
    frozen_cfg.learn.lr = 0;
    Session *s = open_session("mixed.model", 1), *frozen = open_session_with("mixed.model", &frozen_cfg);
    if (!s || !frozen) return;
    session_say(s, "hi", 2, NULL, NULL, NULL);
    session_say(frozen, "hi", 2, NULL, NULL, NULL);
    const Model *m = session_policy(s);
    float *before = xmalloc(m->num_params * sizeof(float));
    memcpy(before, m->param_block, m->num_params * sizeof(float));
    RatingResult r;
    CHECK(session_teach(s, "  ", 2, &r) != 0, "an empty version was learned");
    CHECK(session_teach(s, "a banana split", 14, &r) != 0, "a version the filter blocks was learned");
    CHECK(session_teach(s, mine, strlen(mine), &r) == 0, "teach: %s", err_msg());
    CHECK(session_teach(frozen, mine, strlen(mine), &r) == 0, "teach (frozen): %s", err_msg());
    float kl, lp_after = session_reply_logprob(s, &kl), lp_before = session_reply_logprob(frozen, &kl);
    CHECK(lp_after > lp_before, "your version: log p %.4f before, %.4f after", lp_before, lp_after);
    CHECK(!strcmp(session_last_turn(s)->text, mine), "the turn shows '%s', not your version",
          session_last_turn(s)->text);
    CHECK(session_rate(s, 1, &r) != 0, "a taught reply was rated again");
    CHECK(session_undo(s) == 0, "undo: %s", err_msg());
    CHECK(!memcmp(before, m->param_block, m->num_params * sizeof(float)), "undo did not restore the weights");
    free(before);
    session_free(frozen);
    session_free(s);
}

/* Whether two digests agree, part by part; a check for each part, naming it. Undo's reach
   is left out: an undo shortens it, as a rating lengthens it. */
static int same_state(const SessionDigest *a, const SessionDigest *b, const char *when) {
    struct {
        const char *name;
        int same;
    } parts[] = {{"policy weights", a->learner.weights == b->learner.weights},
                 {"Adam state", a->learner.optimizer == b->learner.optimizer},
                 {"critic, baseline and beta", a->learner.critic == b->learner.critic},
                 {"learner's random generator", a->learner.rng == b->learner.rng},
                 {"replay buffer", a->learner.replay == b->learner.replay},
                 {"rating statistics", a->human_stats == b->human_stats},
                 {"reward model", a->reward_model == b->reward_model},
                 {"rating count", a->ratings == b->ratings}};
    int all = 1;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        CHECK(parts[i].same, "%s: the %s differ", when, parts[i].name);
        all &= parts[i].same;
    }
    return all;
}

/* Says "hi" until a reply is shown (the filter blocks about half of mixed.model's). */
static const Turn *say_until_shown(Session *s) {
    const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
    for (int k = 0; k < 20 && t->blocked; k++) t = session_say(s, "hi", 2, NULL, NULL, NULL);
    CHECK(!t->blocked, "20 turns in a row withheld");
    return t;
}

/* Undo returns the whole state a rating changed. Four ratings with blocked samples
   penalised between them: the penalties take no place in undo's reach, so all four undo,
   and the state is the one before the first. Then, with the replay buffer full (a new
   rating's episode displaces its oldest) and replays drawing on the learner's generator:
   a rating undone is gone without a trace (weights, Adam, critic, generator, replay
   buffer, rating statistics, reward model), and rating again is rating once, bit for bit. */
static void test_rating_undoing_and_rating_again_equals_rating_once(void) {
    write_blocklist("food 2 banana split\n");
    SessionConfig cfg = session_default_config();
    Session *s = open_session_with("mixed.model", &cfg);
    if (!s) return;
    RatingResult r;
    SessionDigest before, once, undone, again;
    const Turn *t = say_until_shown(s);
    session_digest(s, &before);
    int64_t updates = learner_updates(session_learner(s));
    for (int k = 0; k < 4; k++) {
        if (k > 0) t = say_until_shown(s);
        CHECK(session_rate(s, strstr(t->text, "apple") ? 1.0f : -1.0f, &r) == 0, "rating: %s", err_msg());
    }
    int penalties = (int)(learner_updates(session_learner(s)) - updates) - 4;
    CHECK(penalties > 0, "no blocked sample was penalised between the four ratings");
    int undid = 0;
    while (undid < 5 && session_undo(s) == 0) undid++;
    CHECK(undid == 4, "%d of 4 ratings undone, with %d penalties between them", undid, penalties);
    session_digest(s, &undone);
    same_state(&undone, &before, "four ratings undone");
    for (int rated = 0; rated < 36;) { /* more than the replay buffer holds */
        t = say_until_shown(s);
        CHECK(session_rate(s, strstr(t->text, "apple") ? 1.0f : -1.0f, &r) == 0, "rating: %s", err_msg());
        rated++;
    }
    t = say_until_shown(s);
    session_digest(s, &before);
    CHECK(session_rate(s, 1, &r) == 0, "rating: %s", err_msg());
    CHECK(r.update.replayed > 0, "the rating replayed nothing");
    session_digest(s, &once);
    CHECK(once.learner.replay != before.learner.replay && once.learner.rng != before.learner.rng &&
              once.human_stats != before.human_stats,
          "the rating changed neither the replay buffer, the generator nor the rating statistics");
    CHECK(session_undo(s) == 0, "undo: %s", err_msg());
    session_digest(s, &undone);
    same_state(&undone, &before, "after the undo");
    CHECK(session_rate(s, 1, &r) == 0, "rating again: %s", err_msg());
    session_digest(s, &again);
    same_state(&again, &once, "rated, undone and rated again against rated once");
    CHECK(once.learner.undoable == 4 && undone.learner.undoable == 3 && again.learner.undoable == 4,
          "undo's reach: %d rated once, %d undone, %d rated again", once.learner.undoable, undone.learner.undoable,
          again.learner.undoable);
    session_free(s);
}

/* Sets the stop flag once `after` tokens have come: Ctrl-C part way through a reply. */
typedef struct {
    volatile sig_atomic_t *stop;
    int seen, after;
} StopAfter;

static void stop_after(void *ctx, int token) {
    StopAfter *sa = ctx;
    if (token >= 0 && ++sa->seen >= sa->after) *sa->stop = 1;
}

/* A reply the user stopped, or one the length limit cut, ends with a TOK_EOT the policy
   never chose: its episode is marked cut, so the learner does not train that TOK_EOT
   (test_learner checks what cut means to the update); a reply the policy ended is not. */
static void test_stopped_and_length_cut_replies_are_marked_cut(void) {
    write_blocklist("food 2 no such words here\n");
    SessionConfig cfg = session_default_config();
    Session *s = open_session_with("reader.model", &cfg);
    if (!s) return;
    const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
    CHECK(!t->stopped && t->episode.n > 3 && !t->episode.cut, "a whole reply of %d tokens: stopped %d, cut %d",
          t->episode.n, t->stopped, t->episode.cut);
    volatile sig_atomic_t stop = 0;
    StopAfter sa = {&stop, 0, 2};
    session_clear(s);
    t = session_say(s, "hi", 2, stop_after, &sa, &stop);
    CHECK(t->stopped && t->episode.n == 2 && t->episode.cut, "stopped after 2 tokens: stopped %d, %d tokens, cut %d",
          t->stopped, t->episode.n, t->episode.cut);
    RatingResult r;
    CHECK(session_rate(s, 1, &r) == 0, "rating a stopped reply: %s", err_msg());
    session_free(s);
    cfg.max_tokens = 3;
    s = open_session_with("reader.model", &cfg);
    if (!s) return;
    t = session_say(s, "hi", 2, NULL, NULL, NULL);
    CHECK(!t->stopped && t->episode.n == 3 && t->episode.cut, "cut at 3 tokens: %d tokens, cut %d", t->episode.n,
          t->episode.cut);
    session_free(s);
}

/* With a word list in the assets folder, a reply holds only its words and the words of the
   user's messages: a word the model was trained to say but the list lacks appears only
   once the user has said it. Each episode keeps both the sampled distribution's
   log-probabilities (for the learner's ratio) and the policy's own (for the chooser). */
static void test_replies_keep_to_the_word_list_and_the_users_words(void) {
    const char *replies[] = {"i love zorbleflux music", "zorbleflux i love"};
    make_model("words.model", replies, 2);
    write_blocklist("food 2 no such words here\n");
    char path[128];
    snprintf(path, sizeof path, "%s/words.txt", dir);
    Lexicon list;
    lexicon_build(&list, 0);
    lexicon_add_text(&list, "i love music hi", 15);
    CHECK(lexicon_save(&list, 1, NULL, path) == 0, "saving the list: %s", err_msg());
    lexicon_free(&list);
    Session *s = open_session("words.model", 4);
    if (!s) return;
    int before = 0, after = 0, separate = 0, episodes = 0;
    for (int k = 0; k < 10; k++) {
        session_clear(s);
        const Turn *t = session_say(s, "hi", 2, NULL, NULL, NULL);
        before += strstr(t->text, "zorbleflux") != NULL;
        episodes++;
        separate += t->episode.behaviour_lp && t->episode.policy_lp &&
                    memcmp(t->episode.behaviour_lp, t->episode.policy_lp, (t->episode.n + 1) * sizeof(float));
    }
    for (int k = 0; k < 10; k++) {
        session_clear(s);
        const Turn *t = session_say(s, "hi zorbleflux", 13, NULL, NULL, NULL);
        after += strstr(t->text, "zorbleflux") != NULL;
    }
    CHECK(before == 0, "%d of 10 replies said a word neither the list nor the user holds", before);
    CHECK(after > 0, "the user's own word never came back in 10 replies");
    CHECK(separate == episodes, "%d of %d episodes lack either log-probability or have the same in both", episodes - separate,
          episodes);
    session_free(s);
    unlink(path); /* the other tests' sessions sample any word */
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/rlchat_session_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(test_reply_blocked_every_time_gives_the_placeholder_and_is_penalised);
    RUN(test_blocked_reply_is_resampled_and_no_shown_reply_is_blocked);
    RUN(test_masked_word_tokens_never_appear_in_replies);
    RUN(test_reinforce_takes_the_rating_as_it_is_and_the_rest_standardise_it);
    RUN(test_candidates_are_screened_and_undo_takes_back_the_reward_model_too);
    RUN(test_a_liked_reply_gains_and_the_policy_leaves_the_base);
    RUN(test_rating_undoing_and_rating_again_equals_rating_once);
    RUN(test_best_of_shows_the_reply_the_reward_model_guesses_is_liked);
    RUN(test_before_the_reward_model_is_believed_the_policy_chooses);
    RUN(test_a_stop_ends_the_reading_of_a_long_message);
    RUN(test_a_reply_the_user_rewrites_is_learned_and_undone);
    RUN(test_stopped_and_length_cut_replies_are_marked_cut);
    RUN(test_replies_keep_to_the_word_list_and_the_users_words);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
