/* profile: where a user's personalised models live, and their feedback logs.

   Files, under $XDG_DATA_HOME/rlchat/ (default ~/.local/share/rlchat/):
     NAME.profile        the personalised checkpoint (session_save / session_load)
     NAME.feedback.log   append-only, one line per rating, tab separated (see feedback_append)
     history             the input line's history (readline) */
#ifndef RLCHAT_PROFILE_H
#define RLCHAT_PROFILE_H

#include <stdio.h>
#include <time.h>

#include "model/util.h"
#include "rl/reward.h"

#define PROFILE_NAME_MAX 64

/* The profile folder into out (n bytes), created when missing. -1 with err_msg(). */
int profile_dir(char *out, size_t n);
/* 1 when name is usable as a profile name: 1..64 of [A-Za-z0-9._-], not starting with '.'. */
int profile_name_ok(const char *name);
/* dir/NAME + suffix (".profile", ".feedback.log", or a whole name like "history"). */
int profile_path(char *out, size_t n, const char *name, const char *suffix);

/* The feedback log of one profile, open for appending. With no profile in use the lines
   are held, for the profile the updates are first saved to (feedback_keep_held). */
typedef struct {
    FILE *f;          /* NULL when closed */
    char path[4096];  /* for messages */
    Buf held;         /* lines appended while closed */
} FeedbackLog;

/* One rating as it is logged. */
typedef struct {
    const char *prompt;        /* the user's message (raw bytes) */
    const char *reply;         /* the reply rated (raw bytes) */
    const char *rating;        /* "+1", "-1", "N/5", "a>b", "b>a", "undo", or for a reply the user
                                  rewrote "edit" (the reply shown) then "edited" (their version) */
    const RewardTerms *terms;  /* the reward breakdown; NULL when there is none (prefer, undo) */
    float logprob;             /* sum log pi(reply) before the update; NAN when none */
} FeedbackLine;

int feedback_open(FeedbackLog *log, const char *name);   /* -1 with err_msg() */
void feedback_close(FeedbackLog *log);
/* The held lines: written to the log now open (their updates were saved with its profile),
   or dropped (their updates were, by a load or a reset). */
int feedback_keep_held(FeedbackLog *log);
void feedback_drop_held(FeedbackLog *log);
/* Appends one line and flushes it:
   TIME  PROMPT  REPLY  RATING  HUMAN  FLUENCY  RELEVANCE  INFORMATIVENESS  SAFETY  TOTAL  LOGPROB
   TIME is ISO 8601 UTC; text fields are escaped with text_escape_field; missing numbers
   are "-". -1 with err_msg() when the write fails. */
int feedback_append(FeedbackLog *log, const FeedbackLine *line);

/* A saved profile, for /models. */
typedef struct {
    char name[PROFILE_NAME_MAX + 1];  /* the profile's name */
    time_t mtime;                     /* when it was last saved */
    int ratings;                      /* ratings in its feedback log, undos subtracted */
} ProfileInfo;

/* The saved profiles, sorted by name, into a new array the caller frees. -1 with err_msg(). */
int profile_list(ProfileInfo **out, int *n);

/* The base model to start profile NAME on, into out: model_path when the profile was made
   on it (or there is no readable profile), else the model file in assets_dir with the
   profile's base weights, the file name it recorded tried first. Returns 1 when that is
   another file than model_path, 0 otherwise (out = model_path; none found is told when
   the profile is loaded). An upgrade of the shipped model keeps the earlier one in the
   assets folder, so a profile made on it keeps working. */
int profile_find_base(const char *name, const char *assets_dir, const char *model_path, char *out, size_t n);

#endif
