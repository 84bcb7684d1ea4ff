/* session: one conversation with a learning model, the single path every front end uses
   (the curses screen, plain mode, `rlchat simulate`). It owns the base model (frozen),
   the policy (a copy that learns), the learner, the safety filter and the reward state.

   A turn: session_say feeds the user's message, samples a reply, screens it (a blocked
   reply is penalised through the learner and resampled, up to resample_tries times; then a
   placeholder is shown), and keeps the episode for rating. session_rate turns a rating into
   a reward and updates the policy at once, so the next reply comes from the updated model. */
#ifndef RLCHAT_SESSION_H
#define RLCHAT_SESSION_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "model/generate.h"
#include "rl/learner.h"
#include "rl/reward.h"
#include "rl/reward_model.h"
#include "rl/safety.h"

#define SESSION_PLACEHOLDER "[reply withheld by the safety filter]"
#define SESSION_MAX_CANDIDATES 8 /* unseen replies a rating can learn from */

typedef struct {
    LearnerConfig learn;      /* learner settings */
    RewardWeights weights;    /* reward weights */
    SamplerConfig sampling;   /* chat sampling */
    int max_tokens;           /* longest reply */
    int resample_tries;       /* attempts before the placeholder */
    int sample_candidates;    /* 1: each reply also samples the learner's candidates (when it
                                 takes any); off for replies that are never rated */
    int learn_from_blocked;   /* penalise blocked samples through the learner (1) */
    int best_of;              /* replies sampled per message under the full learner, once the
                                 reward model predicts ratings it has not seen (R^2 > 0): the
                                 one it guesses best is shown, the rest may be candidates; 1:
                                 every reply is the policy's first sample (4: docs/learning.md) */
    int best_of_by_policy;    /* ... before then, once a rating has moved the policy: the one
                                 the policy has moved toward most from the base is shown (8:
                                 docs/learning.md; 1: the policy's first sample, as before any
                                 rating) */
} SessionConfig;

/* The last reply shown, and what is needed to rate it. */
typedef struct {
    char *prompt;            /* the user's message (raw bytes, NUL-terminated) */
    char *text;              /* the reply shown (raw bytes; the placeholder if blocked) */
    int blocked;             /* 1 if every try was blocked */
    int tries;               /* samples drawn, blocked ones included */
    SafetyVerdict verdict;   /* of the last blocked try, when any */
    Episode episode;         /* for the learner; n = 0 when blocked */
    int32_t *prompt_tokens;  /* (n_prompt) for the relevance reward */
    int n_prompt;            /* the message's tokens the model read: all of them unless cut */
    int cut;                 /* 1 if a stop (Ctrl-C) ended the reading of the message part way */
    int rated;               /* 1 once rated */
    Episode *candidates;     /* (n_candidates) unseen replies from the same context, for the
                                learner (learn.candidates); base model pass done */
    RewardTerms *candidate_terms; /* (n_candidates) their automatic terms; the human term is
                                guessed when the reply is rated */
    int n_candidates;
    int stopped;             /* 1 if the user stopped it (Ctrl-C); still rateable */
} Turn;

/* The outcome of a rating. */
typedef struct {
    RewardTerms terms;       /* breakdown of R */
    UpdateStats update;      /* what the update did */
    float predicted_human;   /* the reward model's guess of terms.human, made before it saw it */
    float trust;             /* how far the update believed the guesses about them: the reward
                                model's leave-one-out R^2, at least 0 */
    double ms;               /* the whole rating: reward, candidates' rewards, update */
} RatingResult;

/* Checksums of the state a rating changes, part by part: what an undo must restore. */
typedef struct {
    LearnerDigest learner;   /* the learner's (learner_digest) */
    uint32_t human_stats;    /* the rating statistics */
    uint32_t reward_model;   /* the reward model's fit (what its guesses and trust read) */
    int ratings;             /* session_ratings */
} SessionDigest;

typedef struct Session Session;

#define SESSION_MESSAGE_MAX 4096 /* bytes of a message the model sees; a longer one keeps its end */
#define SESSION_RM_EXAMPLES 32 /* rated replies the reward model fits: the learner's replay span */
#define SESSION_RM_RIDGE 1.0f  /* its ridge, relative to the kernel's mean diagonal */

/* The session's reward model over a reply's features (rl/episode.h's blocks, the last
   SESSION_RM_EXAMPLES ratings), with spare examples kept for undo: also what `rlchat
   simulate --ceiling` measures on its own and `make bench` times. */
void session_build_reward_model(RewardModel *rm, const Config *c, int spare);

SessionConfig session_default_config(void);
/* Loads the base model from model_path, and the safety filter and the word list replies
   keep to (words.txt, when the folder has one) from assets_dir (NULL: no filter, any
   word). NULL with err_msg() on failure. */
Session *session_new(const char *model_path, const char *assets_dir, const SessionConfig *cfg, uint64_t seed);
void session_free(Session *s);
SessionConfig *session_config(Session *s);
const Model *session_policy(const Session *s);
const Tokenizer *session_tokenizer(const Session *s);
Learner *session_learner(Session *s);

/* Says text as the user and samples the reply. on_token (may be NULL) sees each token of
   each attempt as it is sampled, and -1 when an attempt is discarded by the filter; only
   the screened text in the returned turn may be shown. stop (may be NULL) ends the reply
   early, or the reading of a long message part way (the turn is then cut, its reply
   empty). The returned turn belongs to the session and lives until the next say. */
const Turn *session_say(Session *s, const char *text, size_t len, TokenFn on_token, void *ctx,
                        volatile sig_atomic_t *stop);
const Turn *session_last_turn(const Session *s);
/* Rates the last turn: human in [-1, 1] (good +1, bad -1, stars via human_from_stars). */
int session_rate(Session *s, float human, RatingResult *out);
/* The last turn's reply under the policy as it is now: the sum of its log-probabilities
   (TOK_EOT included unless the reply was cut) and, in *mean_kl, its mean KL to the base per token; 0 and 0 when
   there is no shown reply. One forward pass of the policy (the base's is cached), for
   the screen: after a rating it shows how far the update moved the policy. */
float session_reply_logprob(Session *s, float *mean_kl);
/* Undoes the last rating or preference: the learner (with the safety penalties after it),
   the reward model's example and the rating statistics return to before it. -1 with
   err_msg() when there is none within undo's reach (undo_depth ratings back). */
int session_undo(Session *s);
/* 1 when a rating or a preference within undo's reach is left to undo. */
int session_can_undo(const Session *s);
/* Checksums of what an undo must restore (tests). */
void session_digest(const Session *s, SessionDigest *d);
/* Samples an alternative reply to the last message from the same context (for a/b);
   the alternative becomes turn b; session_prefer(s, 0 or 1) picks a or b, makes a
   preference update, and continues the conversation with the chosen reply. */
const Turn *session_regenerate(Session *s, TokenFn on_token, void *ctx, volatile sig_atomic_t *stop);
const Turn *session_alternative(const Session *s);
int session_prefer(Session *s, int which, RatingResult *out);
/* Teaching by example: text is the user's own version of the last reply (any bytes).
   It is learned as preferred over the reply shown, with its likelihood (learner_teach),
   undoable like a rating, and takes the shown reply's place in the conversation. -1 with
   err_msg() when there is no unrated reply, the text is empty, or the filter blocks it. */
int session_teach(Session *s, const char *text, size_t len, RatingResult *out);
/* A new conversation with the same model. */
void session_clear(Session *s);
/* Back to the base model: weights, optimizer and learner state. */
void session_reset(Session *s);
/* Ratings and updates so far; KL of the policy to the base on the last turn. */
int session_ratings(const Session *s);
int session_unsaved(const Session *s);   /* updates since the last save or load */

/* Profiles: the personalised model with optimizer, learner and reward state, and the base
   model's identity (its weights' checksum) and file name, saved atomically. Loading
   checks the base matches: SESSION_OTHER_BASE (with err_msg() naming both bases) when
   the profile was made on another base model, -1 when the file is not a usable profile. */
#define SESSION_OTHER_BASE (-2)
int session_save(Session *s, const char *path);
int session_load(Session *s, const char *path);
/* The base a profile file was made on: its weights' checksum and its file name ("" for a
   profile older than the record of names). -1 with err_msg() when it is not a profile. */
int session_profile_base(const char *path, uint32_t *base_id, char *name, size_t n);
/* The checksum a profile records for the base model in model_path; -1 with err_msg(). */
int session_model_id(const char *model_path, uint32_t *id);

#endif
