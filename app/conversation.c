/* conversation: see conversation.h. */
#include "app/conversation.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/text.h"
#include "model/util.h"

void chat_init(Chat *c, Session *s, const char *model_path, int plain) {
    memset(c, 0, sizeof *c);
    c->session = s;
    c->model_path = model_path;
    c->plain = plain;
    c->reply = c->alt = -1;
    pthread_mutex_init(&c->lock, NULL);
}

static void clear_entries(Chat *c) {
    for (int i = 0; i < c->n_entries; i++) free(c->entries[i].text);
    c->n_entries = 0;
    c->reply = c->alt = -1;
    c->n_rated = 0;
}

/* The transcript and the reward history describe the model as it was: after loading a
   profile or resetting, both start again. */
static void forget_model_history(Chat *c) {
    pthread_mutex_lock(&c->lock);
    clear_entries(c);
    c->n_rewards = 0;
    c->has_terms = c->has_kl = c->has_update = 0;
    c->version++;
    pthread_mutex_unlock(&c->lock);
}

void chat_free(Chat *c) {
    clear_entries(c);
    free(c->entries);
    free(c->rated);
    feedback_close(&c->log);
    feedback_drop_held(&c->log);
    pthread_mutex_destroy(&c->lock);
}

/* ---- output ---- */

void chat_sync(Chat *c) {
    int r = session_ratings(c->session), u = session_unsaved(c->session), undo = session_can_undo(c->session);
    pthread_mutex_lock(&c->lock);
    c->ratings = r, c->unsaved = u, c->can_undo = undo;
    c->version++;
    pthread_mutex_unlock(&c->lock);
}

void chat_note(Chat *c, int error, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->plain) {
        fprintf(stderr, "%s%s\n", error ? "error: " : "", msg);
        fflush(stderr);
        return;
    }
    char *safe = text_sanitize(msg, strlen(msg), 0);
    pthread_mutex_lock(&c->lock);
    snprintf(c->message, sizeof c->message, "%s", safe);
    c->message_error = error;
    c->version++;
    pthread_mutex_unlock(&c->lock);
    free(safe);
}

/* Appends an entry (caller holds the lock); returns its index. */
static int add_entry(Chat *c, EntryKind kind, const char *text, size_t len) {
    if (c->n_entries == c->cap_entries) {
        c->cap_entries = c->cap_entries ? c->cap_entries * 2 : 32;
        c->entries = xrealloc(c->entries, (size_t)c->cap_entries * sizeof *c->entries);
    }
    Entry *e = &c->entries[c->n_entries];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->text = text_sanitize(text, len, kind == ENTRY_NOTE);
    e->len = strlen(e->text);
    e->shown = e->len;
    c->version++;
    return c->n_entries++;
}

void chat_print(Chat *c, const char *text) {
    if (c->plain) {
        fputs(text, stderr);
        if (*text && text[strlen(text) - 1] != '\n') fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    size_t len = strlen(text);
    while (len && text[len - 1] == '\n') len--;
    pthread_mutex_lock(&c->lock);
    add_entry(c, ENTRY_NOTE, text, len);
    pthread_mutex_unlock(&c->lock);
}

/* Plain mode prints every reply as one screen-safe line on stdout. */
static void print_reply(Chat *c, const char *text) {
    if (!c->plain) return;
    char *safe = text_sanitize(text, strlen(text), 0);
    printf("%s\n", safe);
    fflush(stdout);
    free(safe);
}

static void push_reward(Chat *c, float r) {
    if (c->n_rewards == SPARK_N) {
        memmove(c->rewards, c->rewards + 1, (SPARK_N - 1) * sizeof(float));
        c->n_rewards--;
    }
    c->rewards[c->n_rewards++] = r;
}

static void push_rated(Chat *c, int entry, int other, int had_reward) {
    if (c->n_rated == c->cap_rated) {
        c->cap_rated = c->cap_rated ? c->cap_rated * 2 : 16;
        c->rated = xrealloc(c->rated, (size_t)c->cap_rated * sizeof *c->rated);
    }
    RatedItem *it = &c->rated[c->n_rated++];
    *it = (RatedItem){entry, other, had_reward, "", ""};
    if (entry >= 0) memcpy(it->entry_was, c->entries[entry].rating, sizeof it->entry_was);
    if (other >= 0) memcpy(it->other_was, c->entries[other].rating, sizeof it->other_was);
}

static void log_line(Chat *c, const char *prompt, const char *reply, const char *rating,
                     const RewardTerms *terms, float logprob) {
    FeedbackLine l = {prompt, reply, rating, terms, logprob};
    if (feedback_append(&c->log, &l) != 0) chat_note(c, 1, "%s", err_msg());
}

/* ---- profiles ---- */

static int reopen_log(Chat *c) {
    feedback_close(&c->log);
    return feedback_open(&c->log, c->profile);
}

int chat_use_profile(Chat *c, const char *name) {
    char path[4096];
    struct stat st;
    if (!profile_name_ok(name)) {
        err_set("'%s' is not a usable profile name (letters, digits, '.', '_' and '-'; at most %d)", name,
                PROFILE_NAME_MAX);
        return -1;
    }
    if (profile_path(path, sizeof path, name, ".profile") != 0) return -1;
    char dir[4096];
    if (profile_dir(dir, sizeof dir) == 0) remove_stale_temps(dir, NULL); /* saves killed mid-write */
    snprintf(c->profile, sizeof c->profile, "%s", name);
    if (stat(path, &st) == 0) {
        int rc = session_load(c->session, path);
        if (rc == SESSION_OTHER_BASE) {
            c->profile_foreign = 1;
            chat_note(c, 1, "cannot use profile %s: %s. Put that model file in the assets folder, or start "
                      "with --model FILE naming it. Starting on the base model; the profile is kept (/save "
                      "%s! would replace it)", name, err_msg(), name);
        } else if (rc != 0) {
            c->profile_bad = 1;
            chat_note(c, 1, "cannot load profile %s: %s. Starting on the base model; the file is kept "
                      "(the first save moves it aside to %s.profile.corrupt)", name, err_msg(), name);
        } else {
            chat_note(c, 0, "profile %s: %d ratings so far", name, session_ratings(c->session));
        }
    } else { /* nothing is written until there is something to save */
        chat_note(c, 0, "new profile %s: written to %s at the first /save (nothing is saved before)", name, path);
    }
    if (reopen_log(c) != 0) chat_note(c, 1, "%s", err_msg());
    chat_sync(c);
    return 0;
}

/* Copies name into out without a final '!' and returns 1 if it had one: "/save x!" and
   "/load x!" go on where they would stop to keep something (another profile, unsaved
   updates). */
static int strip_bang(const char *name, char *out, size_t n) {
    snprintf(out, n, "%s", name);
    size_t len = strlen(out);
    if (len < 2 || out[len - 1] != '!') return 0;
    out[len - 1] = 0;
    return 1;
}

static int profile_exists(const char *name) {
    char path[4096];
    struct stat st;
    return profile_path(path, sizeof path, name, ".profile") == 0 && stat(path, &st) == 0;
}

const char *chat_save_name(const Chat *c, char *buf, size_t n) {
    if (c->profile[0]) return c->profile;
    snprintf(buf, n, "default");
    for (int i = 2; profile_exists(buf) && i < 1000; i++) snprintf(buf, n, "default-%d", i);
    return buf;
}

/* Moves the profile that failed to load out of the way, to the first of PATH.corrupt,
   PATH.corrupt.2, ... that is free: an earlier one is never replaced. */
static void move_aside(Chat *c, const char *path) {
    char aside[4200];
    struct stat st;
    snprintf(aside, sizeof aside, "%s.corrupt", path);
    for (int i = 2; stat(aside, &st) == 0 && i < 1000; i++) snprintf(aside, sizeof aside, "%s.corrupt.%d", path, i);
    if (rename(path, aside) == 0) chat_note(c, 0, "the profile that did not load was moved to %s", aside);
}

int chat_save(Chat *c, const char *name) {
    char path[4096], given[PROFILE_NAME_MAX + 2], fresh[32];
    int replace = 0; /* "NAME!": replace another profile of that name */
    if (name && *name) {
        replace = strip_bang(name, given, sizeof given);
        name = given;
    } else {
        name = chat_save_name(c, fresh, sizeof fresh);
    }
    if (!profile_name_ok(name)) {
        err_set("'%s' is not a usable profile name (letters, digits, '.', '_' and '-')", name);
        return -1;
    }
    if (profile_path(path, sizeof path, name, ".profile") != 0) return -1;
    int same = !strcmp(name, c->profile);
    if (same && c->profile_foreign && !replace) {
        err_set("profile %s was made on another base model and is kept: /save %s! to replace it, or /save "
                "OTHER_NAME", name, name);
        return -1;
    }
    if (!same && !replace && profile_exists(name)) {
        err_set("there is already a profile named %s: /load %s to go on with it, or /save %s! to replace it", name,
                name, name);
        return -1;
    }
    if (same && c->profile_bad) { /* keep the file that failed to load, for inspection */
        move_aside(c, path);
        c->profile_bad = 0;
    }
    if (session_save(c->session, path) != 0) return -1;
    if (same) c->profile_foreign = 0;
    if (!same) {
        snprintf(c->profile, sizeof c->profile, "%s", name);
        c->profile_bad = c->profile_foreign = 0;
        if (reopen_log(c) != 0 || feedback_keep_held(&c->log) != 0) chat_note(c, 1, "%s", err_msg());
    }
    pthread_mutex_lock(&c->lock);
    c->version++;
    pthread_mutex_unlock(&c->lock);
    chat_note(c, 0, "saved profile %s (%d ratings) to %s", name, session_ratings(c->session), path);
    return 0;
}

/* 0 when nothing unsaved would be lost, or the user said to drop it ("NAME!", "/reset!");
   else -1 with the way to go on (forced: the command that drops them). */
static int keeps_unsaved(const Chat *c, int drop, const char *forced) {
    int unsaved = session_unsaved(c->session);
    if (!unsaved || drop) return 0;
    err_set("%d unsaved updates would be lost: /save first, or %s to drop them", unsaved, forced);
    return -1;
}

int chat_load(Chat *c, const char *name) {
    char path[4096], given[PROFILE_NAME_MAX + 2];
    struct stat st;
    if (!name || !*name) {
        err_set("which profile? /load NAME (see /models)");
        return -1;
    }
    int drop = strip_bang(name, given, sizeof given); /* "NAME!": drop the unsaved updates */
    name = given;
    char forced[PROFILE_NAME_MAX + 16];
    snprintf(forced, sizeof forced, "/load %s!", name);
    if (keeps_unsaved(c, drop, forced) != 0) return -1;
    if (!profile_name_ok(name)) {
        err_set("'%s' is not a usable profile name", name);
        return -1;
    }
    if (profile_path(path, sizeof path, name, ".profile") != 0) return -1;
    if (stat(path, &st) != 0) {
        err_set("there is no profile named %s (see /models)", name);
        return -1;
    }
    int rc = session_load(c->session, path); /* on failure the session is left as it was */
    if (rc == SESSION_OTHER_BASE)
        err_set("%s. To use it, start rlchat --profile %s: it finds that base in the assets folder", err_msg(), name);
    if (rc != 0) return -1;
    snprintf(c->profile, sizeof c->profile, "%s", name);
    c->profile_bad = c->profile_foreign = 0;
    feedback_drop_held(&c->log); /* ratings of updates the load dropped */
    if (reopen_log(c) != 0) chat_note(c, 1, "%s", err_msg());
    forget_model_history(c);
    chat_note(c, 0, "loaded profile %s: %d ratings", name, session_ratings(c->session));
    return 0;
}

int chat_end(Chat *c, int status) {
    chat_sync(c);
    c->plain = 1;
    if (!c->unsaved) return status;
    if (c->autosave) {
        if (chat_save(c, NULL) == 0) return status;
        chat_note(c, 1, "autosave failed: %s", err_msg());
        return 1;
    }
    chat_note(c, 0, "%d unsaved updates were not saved (use /save, or --autosave)", c->unsaved);
    return status;
}

/* ---- the turn ---- */

int chat_say(Chat *c, const char *text, size_t len) {
    if (len > SESSION_MESSAGE_MAX) {
        chat_note(c, 0, "your message was %zu bytes; the model sees its last %d", len, SESSION_MESSAGE_MAX);
        text += len - SESSION_MESSAGE_MAX;
        len = SESSION_MESSAGE_MAX;
    }
    pthread_mutex_lock(&c->lock);
    add_entry(c, ENTRY_USER, text, len);
    c->alt = -1;
    pthread_mutex_unlock(&c->lock);

    const Turn *t = session_say(c->session, text, len, NULL, NULL, &c->stop);
    float kl;
    session_reply_logprob(c->session, &kl);

    pthread_mutex_lock(&c->lock);
    int i = add_entry(c, ENTRY_BOT, t->text, strlen(t->text));
    Entry *e = &c->entries[i];
    e->blocked = t->blocked;
    e->stopped = t->stopped;
    if (!c->plain) e->shown = 0; /* the screen reveals it token by token */
    c->reply = i;
    if (!t->blocked) c->kl = kl, c->has_kl = 1;
    pthread_mutex_unlock(&c->lock);

    print_reply(c, t->text);
    chat_sync(c);
    if (t->blocked)
        chat_note(c, 1, "reply withheld by the safety filter: %s%s%s%s (%d tries)", t->verdict.category,
                  t->verdict.entry[0] ? " (" : "", t->verdict.entry, t->verdict.entry[0] ? ")" : "", t->tries);
    else if (t->cut)
        chat_note(c, 0, "stopped while the model was reading your message: it read only its beginning");
    else if (t->stopped)
        chat_note(c, 0, "stopped; the partial reply can still be rated");
    return 0;
}

/* The screen shows the breakdown itself (fitted to its width); plain mode prints it. */
static void note_reward(Chat *c, const char *label, const RatingResult *r) {
    const RewardTerms *t = &r->terms;
    if (!c->plain) {
        pthread_mutex_lock(&c->lock);
        c->message[0] = 0;
        c->version++;
        pthread_mutex_unlock(&c->lock);
        if (r->update.rolled_back) chat_note(c, 1, "the update was rolled back (non-finite values)");
        return;
    }
    chat_note(c, 0, "%s: R %+.2f = human %+.2f fluency %+.2f relevance %+.2f informativeness %+.2f "
              "safety %+.2f (guessed %+.2f); update %.1f ms%s", label, t->total, t->human, t->fluency, t->relevance,
              t->informativeness, t->safety, r->predicted_human, r->ms, r->update.rolled_back ? " (rolled back)" : "");
}

/* The status bar's KL after an update: how far it moved the policy from the base on the
   reply. A pass of the policy, made after the rating's note is on the screen. */
static void refresh_kl(Chat *c) {
    float kl;
    session_reply_logprob(c->session, &kl);
    pthread_mutex_lock(&c->lock);
    c->kl = kl, c->has_kl = 1;
    c->version++;
    pthread_mutex_unlock(&c->lock);
}

int chat_rate(Chat *c, float human, const char *label, const char *logged) {
    RatingResult r;
    const Turn *t = session_last_turn(c->session);
    if (session_rate(c->session, human, &r) != 0) return -1;
    pthread_mutex_lock(&c->lock);
    push_rated(c, c->reply, -1, 1); /* keeps its mark for an undo */
    if (c->reply >= 0) snprintf(c->entries[c->reply].rating, sizeof c->entries[c->reply].rating, "%s", label);
    if (c->reply >= 0) c->entries[c->reply].shown = c->entries[c->reply].len;
    push_reward(c, r.terms.total);
    c->terms = r.terms, c->has_terms = 1, c->guess = r.predicted_human;
    snprintf(c->terms_label, sizeof c->terms_label, "%s", label);
    c->update_ms = r.ms, c->has_update = 1;
    c->version++;
    pthread_mutex_unlock(&c->lock);
    note_reward(c, label, &r);
    log_line(c, t->prompt, t->text, logged, &r.terms, r.update.logprob_before);
    refresh_kl(c);
    return 0;
}

int chat_undo(Chat *c) {
    if (session_undo(c->session) != 0) return -1;
    pthread_mutex_lock(&c->lock);
    if (c->n_rated > 0) {
        RatedItem it = c->rated[--c->n_rated];
        Entry *e = c->entries;
        if (it.entry >= 0 && it.entry < c->n_entries) memcpy(e[it.entry].rating, it.entry_was, sizeof it.entry_was);
        if (it.other >= 0 && it.other < c->n_entries) memcpy(e[it.other].rating, it.other_was, sizeof it.other_was);
        if (it.had_reward && c->n_rewards > 0) c->n_rewards--;
    }
    c->has_terms = 0;
    c->version++;
    pthread_mutex_unlock(&c->lock);
    chat_note(c, 0, "undid the last rating: the weights are as they were before it");
    log_line(c, "", "", "undo", NULL, NAN);
    return 0;
}

int chat_regen(Chat *c) {
    if (c->reply < 0) {
        err_set("nothing to regenerate yet: say something first");
        return -1;
    }
    if (c->alt >= 0) {
        err_set("there are already two replies: pick one with a or b (/prefer a|b)");
        return -1;
    }
    const Turn *t = session_regenerate(c->session, NULL, NULL, &c->stop);
    if (!t) return -1;
    pthread_mutex_lock(&c->lock);
    int i = add_entry(c, ENTRY_BOT, t->text, strlen(t->text));
    Entry *e = &c->entries[i];
    e->blocked = t->blocked;
    e->stopped = t->stopped;
    e->label = 'b';
    if (!c->plain) e->shown = 0;
    c->entries[c->reply].label = 'a';
    c->entries[c->reply].shown = c->entries[c->reply].len;
    c->alt = i;
    pthread_mutex_unlock(&c->lock);
    print_reply(c, t->text);
    if (t->blocked) chat_note(c, 1, "reply b withheld by the safety filter: %s", t->verdict.category);
    else chat_note(c, 0, "two replies: a is the first, b the new one; press a or b to keep the better");
    return 0;
}

int chat_prefer(Chat *c, int which) {
    RatingResult r;
    if (c->alt < 0) {
        err_set("no alternative to choose from: press r (/regen) first");
        return -1;
    }
    if (session_prefer(c->session, which, &r) != 0) return -1;
    const Turn *t = session_last_turn(c->session); /* the chosen reply */
    pthread_mutex_lock(&c->lock);
    int chosen = which ? c->alt : c->reply, other = which ? c->reply : c->alt;
    push_rated(c, chosen, other, 0); /* keeps their marks for an undo */
    snprintf(c->entries[chosen].rating, sizeof c->entries[chosen].rating, "chosen");
    snprintf(c->entries[other].rating, sizeof c->entries[other].rating, "not chosen");
    c->entries[chosen].shown = c->entries[chosen].len;
    c->reply = chosen;
    c->alt = -1;
    c->update_ms = r.ms, c->has_update = 1;
    c->has_terms = 0;
    c->version++;
    pthread_mutex_unlock(&c->lock);
    chat_note(c, 0, "preferred %c: preference update in %.1f ms; the conversation goes on from %c", 'a' + which,
              r.ms, 'a' + which);
    log_line(c, t ? t->prompt : "", t ? t->text : "", which ? "b>a" : "a>b", NULL, r.update.logprob_before);
    refresh_kl(c);
    return 0;
}

int chat_teach(Chat *c, const char *text, size_t len) {
    RatingResult r;
    const Turn *t = session_last_turn(c->session);
    char *shown = t && t->text ? xstrdup(t->text) : xstrdup("");
    if (session_teach(c->session, text, len, &r) != 0) {
        free(shown);
        return -1;
    }
    t = session_last_turn(c->session); /* now the written reply */
    pthread_mutex_lock(&c->lock);
    int edited = c->reply;
    int i = add_entry(c, ENTRY_BOT, t->text, strlen(t->text));
    push_rated(c, i, edited, 0); /* keeps their marks for an undo */
    snprintf(c->entries[i].rating, sizeof c->entries[i].rating, "yours");
    if (edited >= 0) snprintf(c->entries[edited].rating, sizeof c->entries[edited].rating, "edited");
    c->reply = i;
    c->alt = -1;
    c->update_ms = r.ms, c->has_update = 1;
    c->has_terms = 0;
    c->version++;
    pthread_mutex_unlock(&c->lock);
    chat_note(c, 0, "learned your version over the reply shown in %.1f ms; the conversation goes on from it", r.ms);
    print_reply(c, t->text);
    log_line(c, t->prompt, shown, "edit", NULL, r.update.logprob_before);
    log_line(c, t->prompt, t->text, "edited", NULL, NAN);
    free(shown);
    refresh_kl(c);
    return 0;
}

/* ---- model and conversation ---- */

int chat_reset(Chat *c, int drop) {
    if (keeps_unsaved(c, drop, "/reset!") != 0) return -1;
    session_reset(c->session);
    feedback_drop_held(&c->log); /* ratings of updates the reset dropped */
    forget_model_history(c);
    chat_note(c, 0, "back to the base model (a saved profile changes only when you save)");
    return 0;
}

void chat_clear(Chat *c) {
    session_clear(c->session);
    pthread_mutex_lock(&c->lock);
    clear_entries(c);
    c->version++;
    pthread_mutex_unlock(&c->lock);
    chat_note(c, 0, "new conversation (same model)");
}

int chat_export(Chat *c, const char *path) {
    if (!path || !*path) {
        err_set("export where? /export FILE");
        return -1;
    }
    Buf b = {0};
    char line[512];
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    int n = snprintf(line, sizeof line, "# rlchat conversation\n\n- model: `%s`\n- profile: %s\n- exported: %s\n\n",
                     c->model_path, c->profile[0] ? c->profile : "(none)", when);
    buf_put(&b, line, (size_t)n);
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n_entries; i++) {
        const Entry *e = &c->entries[i];
        if (e->kind == ENTRY_NOTE) continue;
        if (e->kind == ENTRY_USER) n = snprintf(line, sizeof line, "**You:** ");
        else if (e->label) n = snprintf(line, sizeof line, "**rlchat (%c):** ", e->label);
        else n = snprintf(line, sizeof line, "**rlchat:** ");
        buf_put(&b, line, (size_t)n);
        buf_put(&b, e->text, e->len);
        if (e->kind == ENTRY_BOT && e->rating[0]) {
            n = snprintf(line, sizeof line, "  \n*rating: %s*", e->rating);
            buf_put(&b, line, (size_t)n);
        } else if (e->kind == ENTRY_BOT && e->blocked) {
            buf_put(&b, "  \n*withheld by the safety filter*", 33);
        }
        buf_put(&b, "\n\n", 2);
    }
    pthread_mutex_unlock(&c->lock);
    int rc = write_file_atomic(path, b.data, b.len);
    buf_free(&b);
    if (rc != 0) return -1;
    chat_note(c, 0, "exported the conversation to %s", path);
    return 0;
}

/* ---- settings ---- */

typedef enum { IN_SAMPLING, IN_SESSION, IN_LEARNER, IN_WEIGHTS } Where;

typedef struct {
    const char *name;   /* as typed after /set */
    Where where;        /* which struct holds it */
    size_t off;         /* offset of the field there */
    int is_int;         /* int field, else float */
    float lo, hi;       /* accepted range */
    int sim_only;       /* 1: a learner detail only `rlchat simulate --set` changes; the chat's
                           /set, /show and completion leave it out */
} Setting;

static const Setting SETTINGS[] = {
    {"temp", IN_SAMPLING, offsetof(SamplerConfig, temperature), 0, 0, 5, 0},
    {"top_p", IN_SAMPLING, offsetof(SamplerConfig, top_p), 0, 0.01f, 1, 0},
    {"top_k", IN_SAMPLING, offsetof(SamplerConfig, top_k), 1, 0, 100000, 0},
    {"repetition_penalty", IN_SAMPLING, offsetof(SamplerConfig, repetition_penalty), 0, 1, 5, 0},
    {"min_p", IN_SAMPLING, offsetof(SamplerConfig, min_p), 0, 0, 1, 0},
    {"word_temp", IN_SAMPLING, offsetof(SamplerConfig, word_temperature), 0, 0, 5, 0},
    {"known_words", IN_SAMPLING, offsetof(SamplerConfig, known_words), 1, 0, 1, 0},
    {"min_tokens", IN_SAMPLING, offsetof(SamplerConfig, min_tokens), 1, 0, 1000, 0},
    {"max_tokens", IN_SESSION, offsetof(SessionConfig, max_tokens), 1, 1, 1000, 0},
    {"resample_tries", IN_SESSION, offsetof(SessionConfig, resample_tries), 1, 1, 20, 0},
    {"best_of", IN_SESSION, offsetof(SessionConfig, best_of), 1, 1, SESSION_MAX_CANDIDATES + 1, 0},
    {"best_of_by_policy", IN_SESSION, offsetof(SessionConfig, best_of_by_policy), 1, 1, SESSION_MAX_CANDIDATES + 1, 0},
    {"lr", IN_LEARNER, offsetof(LearnerConfig, lr), 0, 0, 1, 0},
    {"beta", IN_LEARNER, offsetof(LearnerConfig, kl_beta), 0, 0, 10, 0},
    {"kl_target", IN_LEARNER, offsetof(LearnerConfig, kl_target), 0, 0, 100, 0},
    {"entropy", IN_LEARNER, offsetof(LearnerConfig, entropy), 0, 0, 1, 0},
    {"clip", IN_LEARNER, offsetof(LearnerConfig, clip), 0, 0.001f, 1000, 0},
    {"dpo_beta", IN_LEARNER, offsetof(LearnerConfig, dpo_beta), 0, 0.001f, 100, 0},
    {"candidates", IN_LEARNER, offsetof(LearnerConfig, candidates), 1, 0, SESSION_MAX_CANDIDATES, 0},
    {"candidate_weight", IN_LEARNER, offsetof(LearnerConfig, candidate_weight), 0, 0, 10, 0},
    {"entropy_floor", IN_LEARNER, offsetof(LearnerConfig, entropy_floor), 1, 0, 1, 1},
    {"critic_lr", IN_LEARNER, offsetof(LearnerConfig, critic_lr), 0, 0, 1, 1},
    {"replay", IN_LEARNER, offsetof(LearnerConfig, replay), 1, 0, SESSION_RM_EXAMPLES, 1},
    {"self_imitation", IN_LEARNER, offsetof(LearnerConfig, self_imitation), 1, 0, SESSION_RM_EXAMPLES, 1},
    {"imitate_above", IN_LEARNER, offsetof(LearnerConfig, imitate_above), 0, -10, 10, 1},
    {"w_human", IN_WEIGHTS, offsetof(RewardWeights, human), 0, -10, 10, 0},
    {"w_fluency", IN_WEIGHTS, offsetof(RewardWeights, fluency), 0, -10, 10, 0},
    {"w_relevance", IN_WEIGHTS, offsetof(RewardWeights, relevance), 0, -10, 10, 0},
    {"w_informativeness", IN_WEIGHTS, offsetof(RewardWeights, informativeness), 0, -10, 10, 0},
    {"w_safety", IN_WEIGHTS, offsetof(RewardWeights, safety), 0, -10, 10, 0},
    {NULL, 0, 0, 0, 0, 0, 0}};

#define N_SETTINGS (sizeof SETTINGS / sizeof SETTINGS[0] - 1)

/* The keys /set completes: the table's for the chat, then "algo" (set by name, not by offset). */
const char *const *chat_setting_names(void) {
    static const char *names[N_SETTINGS + 2];
    if (!names[0]) {
        size_t n = 0;
        for (size_t i = 0; i < N_SETTINGS; i++)
            if (!SETTINGS[i].sim_only) names[n++] = SETTINGS[i].name;
        names[n] = "algo";
    }
    return names;
}

static const Setting *setting_named(const char *key) {
    const Setting *s = SETTINGS;
    while (s->name && strcmp(s->name, key)) s++;
    return s->name ? s : NULL;
}

static void *setting_field(SessionConfig *cfg, const Setting *s) {
    char *base = s->where == IN_SAMPLING ? (char *)&cfg->sampling
                 : s->where == IN_SESSION ? (char *)cfg
                 : s->where == IN_LEARNER ? (char *)&cfg->learn
                                          : (char *)&cfg->weights;
    return base + s->off;
}

int settings_check(const SessionConfig *cfg) {
    for (const Setting *s = SETTINGS; s->name; s++) {
        const void *f = setting_field((SessionConfig *)cfg, s);
        double v = s->is_int ? *(const int *)f : *(const float *)f;
        if (!(v >= s->lo && v <= s->hi)) {
            err_set("%s wants %s between %g and %g, not %g", s->name, s->is_int ? "a whole number" : "a number",
                    (double)s->lo, (double)s->hi, v);
            return -1;
        }
    }
    return 0;
}

/* Parses value into the setting s of cfg, held to its range; *v gets the number. 0, or -1
   with err_msg(). */
static int set_value(SessionConfig *cfg, const Setting *s, const char *value, double *v) {
    char *end;
    errno = 0;
    *v = strtod(value, &end);
    if (*end || end == value || errno || !isfinite(*v) || *v < s->lo || *v > s->hi ||
        (s->is_int && *v != floor(*v))) {
        err_set("%s wants %s between %g and %g, not '%s'", s->name, s->is_int ? "a whole number" : "a number",
                (double)s->lo, (double)s->hi, value);
        return -1;
    }
    void *f = setting_field(cfg, s);
    if (s->is_int) *(int *)f = (int)*v;
    else *(float *)f = (float)*v;
    return 0;
}

int settings_set(SessionConfig *cfg, const char *key, const char *value) {
    const Setting *s = setting_named(key);
    double v;
    if (!s) {
        err_set("unknown setting '%s'", key);
        return -1;
    }
    return set_value(cfg, s, value, &v);
}

char *chat_settings(Chat *c) {
    SessionConfig *cfg = session_config(c->session);
    const Model *m = session_policy(c->session);
    Buf b = {0};
    char line[4400];
    int n = snprintf(line, sizeof line,
                     "model     %s\nprofile   %s%s\nratings   %d (updates %lld, unsaved %d)\nweights   crc32 %08x\n",
                     c->model_path, c->profile[0] ? c->profile : "(none)", c->profile_bad ? " (unreadable file)" : "",
                     session_ratings(c->session), (long long)learner_updates(session_learner(c->session)),
                     session_unsaved(c->session),
                     crc32_update(0, m->param_block, m->num_params * sizeof(float)));
    buf_put(&b, line, (size_t)n);
    for (const Setting *s = SETTINGS; s->name; s++) {
        if (s->sim_only) continue;
        void *f = setting_field(cfg, s);
        if (s->is_int) n = snprintf(line, sizeof line, "%-18s %d\n", s->name, *(int *)f);
        else n = snprintf(line, sizeof line, "%-18s %g\n", s->name, (double)*(float *)f);
        buf_put(&b, line, (size_t)n);
    }
    n = snprintf(line, sizeof line, "%-18s %s", "algo", algo_name(cfg->learn.algo));
    buf_put(&b, line, (size_t)n + 1); /* with the NUL */
    return (char *)b.data;
}

int chat_set(Chat *c, const char *key, const char *value) {
    SessionConfig *cfg = session_config(c->session);
    LearnerConfig *live = learner_config(session_learner(c->session));
    if (!key || !*key || !value || !*value) {
        err_set("usage: /set KEY VALUE (/show lists the keys)");
        return -1;
    }
    if (!strcmp(key, "algo")) {
        Algo a;
        if (algo_from_name(value, &a) != 0) return -1;
        cfg->learn.algo = live->algo = a;
        chat_note(c, 0, "algo = %s", algo_name(a));
        return 0;
    }
    const Setting *s = setting_named(key);
    double v;
    if (!s || s->sim_only) {
        err_set("unknown setting '%s' (/show lists them)", key);
        return -1;
    }
    if (set_value(cfg, s, value, &v) != 0) return -1;
    if (s->where == IN_LEARNER) { /* the learner keeps its own copy */
        void *lf = (char *)live + s->off;
        if (s->is_int) *(int *)lf = (int)v;
        else *(float *)lf = (float)v;
    }
    chat_note(c, 0, "%s = %g", key, v);
    return 0;
}
