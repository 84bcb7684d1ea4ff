/* conversation: the app's side of a session. A Chat wraps the Session (rl/session.h, the
   one path to the model) with what the front ends show and keep: the transcript, the
   status (last reward and its breakdown, recent rewards, KL, update time), the profile and
   its feedback log. Both front ends (the screen and plain mode) drive a Chat through the
   same operations, so they rate, learn and save the same way.

   Threads: the screen runs the chat_* operations below on its worker thread and only
   reads the Chat (under lock) while drawing; plain mode runs them directly. */
#ifndef RLCHAT_CONVERSATION_H
#define RLCHAT_CONVERSATION_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "app/profile.h"
#include "rl/session.h"

#define SPARK_N 24          /* rewards kept for the sparkline */

typedef enum { ENTRY_USER, ENTRY_BOT, ENTRY_NOTE } EntryKind;

/* One item of the transcript. */
typedef struct {
    EntryKind kind;     /* who said it (a note is the program's own output, e.g. /show) */
    char *text;         /* screen-safe UTF-8 (text_sanitize), owned */
    size_t len;         /* bytes of text */
    size_t shown;       /* bytes revealed by the streaming animation (len when done) */
    char label;         /* 'a' or 'b' when two replies to one message compete, else 0 */
    char rating[16];    /* "good", "bad", "3/5", "chosen", "not chosen", "edited", "yours"; "" unrated */
    int blocked;        /* the placeholder of a withheld reply */
    int stopped;        /* cut short by Ctrl-C */
} Entry;

/* A rating that can be undone: the entries it marked, and their marks before it (a
   reply rated, then preferred over its alternative, is still rated once that is undone). */
typedef struct {
    int entry;          /* the rated (or chosen) reply */
    int other;          /* the reply not chosen in a preference; -1 */
    int had_reward;     /* 1 if it added a reward to the sparkline */
    char entry_was[16], other_was[16]; /* their rating marks before */
} RatedItem;

typedef struct {
    Session *session;                    /* not owned */
    const char *model_path;              /* the base model, for messages and export */
    char profile[PROFILE_NAME_MAX + 1];  /* the current profile; "" none */
    int profile_bad;                     /* its file failed to load: moved aside at the first save */
    int profile_foreign;                 /* it was made on another base model: kept, never saved over
                                            unless asked (/save NAME!) */
    FeedbackLog log;                     /* the profile's feedback log (f NULL when none) */
    int plain;                           /* plain mode: replies to stdout, notes to stderr */
    int autosave;                        /* save on quit without asking */

    pthread_mutex_t lock;                /* guards everything below against the drawing thread */
    Entry *entries;                      /* (n_entries) the transcript */
    int n_entries, cap_entries;
    int reply, alt;                      /* entries of the last reply and its alternative; -1 none */
    RatedItem *rated;                    /* (n_rated) ratings that can be undone, oldest first */
    int n_rated, cap_rated;
    float rewards[SPARK_N];              /* recent rewards R, oldest first */
    int n_rewards;
    RewardTerms terms;                   /* breakdown of the last reward */
    char terms_label[16];                /* the rating it came from ("good", "3/5") */
    float guess;                         /* the reward model's guess of that rating, in [-1, 1] */
    int has_terms;
    float kl;                            /* mean per-token KL to the base on the last reply */
    int has_kl;
    double update_ms;                    /* wall time of the last update */
    int has_update;
    char message[512];                   /* the status line's note */
    int message_error;                   /* 1 when the note is an error */
    int ratings, unsaved, can_undo;      /* session_ratings/_unsaved/_can_undo as of the last operation */
    unsigned version;                    /* bumped at every change, so the screen redraws */

    volatile sig_atomic_t stop;          /* Ctrl-C: ends the reply in progress */
    int want_quit;                       /* set by /quit */
    int want_help;                       /* set by /help */
} Chat;

void chat_init(Chat *c, Session *s, const char *model_path, int plain);
void chat_free(Chat *c);

/* Copies the session's counters into the Chat (ratings, unsaved) for the drawing thread. */
void chat_sync(Chat *c);
/* A short note for the user (the status line, or stderr in plain mode). */
void chat_note(Chat *c, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Longer output (/show, /models, /help in plain mode): the transcript, or stderr. */
void chat_print(Chat *c, const char *text);

/* How a chat ends, in both front ends once the terminal is restored: the unsaved updates
   are saved when --autosave asked for it, else the user is told how many are lost. From
   here on notes go to stderr. Returns the exit status: status, or 1 when the autosave
   failed (a script must not take lost updates for success). */
int chat_end(Chat *c, int status);

/* Starts with profile name: loads it when it exists (a corrupt or mismatched file is
   reported and the chat stays on the base model), creates it when new. -1 only for a bad
   name or an unusable profile folder. */
int chat_use_profile(Chat *c, const char *name);

/* ---- the turn and its rating (each 0, or -1 with err_msg()) ---- */
int chat_say(Chat *c, const char *text, size_t len);
int chat_rate(Chat *c, float human, const char *label, const char *logged);
int chat_undo(Chat *c);
int chat_regen(Chat *c);
int chat_prefer(Chat *c, int which);
/* The user's version of the last reply (e, /edit TEXT), learned over the one shown
   (session_teach); it joins the transcript as "yours", the shown one is marked
   "edited", and the feedback log gets both ("edit", then "edited"). */
int chat_teach(Chat *c, const char *text, size_t len);   /* 0 = a, 1 = b */

/* ---- model, profile and conversation ---- */
/* Saves to profile name, or with NULL to chat_save_name's. Another existing profile is
   not replaced unless the name ends in '!' ("/save work!"). */
int chat_save(Chat *c, const char *name);
/* The profile a save without a name goes to: the current one, else "default", or the
   first free "default-N" when a profile called default exists already. */
const char *chat_save_name(const Chat *c, char *buf, size_t n);
/* Loads profile name; refused while there are unsaved updates unless the name ends in '!'. */
int chat_load(Chat *c, const char *name);
/* Back to the base model; refused while there are unsaved updates unless drop ("/reset!"). */
int chat_reset(Chat *c, int drop);
void chat_clear(Chat *c);
int chat_export(Chat *c, const char *path);
/* The settings and model state as text (caller frees): what /show prints. */
char *chat_settings(Chat *c);
int chat_set(Chat *c, const char *key, const char *value);
/* 0 if every setting /set knows is within the range /set accepts, else -1 with err_msg()
   naming the first that is not: the command line's options are held to the same ranges. */
int settings_check(const SessionConfig *cfg);
/* Sets the setting key of cfg to value as /set does, held to the same range: the one table
   `rlchat simulate --set` reads too, which alone also takes a few learner details (replay,
   self_imitation, imitate_above, critic_lr, entropy_floor). 0, or -1 with err_msg(). */
int settings_set(SessionConfig *cfg, const char *key, const char *value);
/* The names /set accepts, NULL-terminated (for completion and help). */
const char *const *chat_setting_names(void);

#endif
