/* screen: the curses chat. One main loop: read keys (with a short timeout, so replies and
   signals are noticed), let one input function dispatch them by state, advance the
   streaming animation, and draw a frame when something changed. The model runs on the
   worker thread (app/worker.h), so keys and redraws never wait for it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "app/commands.h"
#include "app/frontend.h"
#include "app/input.h"
#include "app/text.h"
#include "app/ui.h"
#include "app/worker.h"
#include "model/utf8.h"
#include "model/util.h"

#define KEY_CTRL(c) ((c) & 0x1f)
#define QUIT_WINDOW 2.0      /* seconds within which a second Ctrl-C quits */
#define TICK_MS 30           /* key wait while something moves */
#define IDLE_MS 200          /* key wait otherwise */
#define KEYS_PER_FRAME 8192  /* a paste is taken in slices so the screen keeps drawing */

typedef enum {
    ST_CHAT,      /* the conversation */
    ST_HELP,      /* the help overlay: any key closes it */
    ST_ASK_SAVE,  /* quitting with unsaved updates: save? */
    ST_SAVING,    /* saving before quitting */
    ST_QUIT       /* leave the loop */
} State;

/* A unit of work for the worker: a command, or a message when cmd is NULL. */
typedef struct {
    Chat *chat;
    const SlashCommand *cmd;
    char *text;     /* the command's arguments, or the message */
    size_t len;
} Job;

static volatile sig_atomic_t got_signal; /* SIGTERM, SIGHUP: leave now */
static volatile sig_atomic_t got_sigint; /* SIGINT (kill -INT): like Ctrl-C */

static void on_signal(int sig) {
    if (sig == SIGINT) got_sigint = 1;
    else got_signal = sig;
}

static struct {
    Chat *c;
    Worker worker;
    State state;
    int scroll;            /* transcript rows scrolled back */
    int dirty;             /* draw a frame */
    int spinner;
    int jobs_seen;         /* worker_finished() at the last look */
    double last_ctrl_c;    /* when Ctrl-C last hit an empty line */
    char **pending;        /* lines typed while the worker was busy, oldest first */
    int n_pending;
    int quit_after_job;    /* quitting waits for the job in progress: a rating's update counts */
    int save_failed;       /* the last save on the way out failed: ask rather than retry */
    int burst;             /* the keys of this frame came together (a paste): no shortcuts */
    int undoing;           /* the last command was an undo: u undoes the update before it too */
    size_t dropped;        /* bytes a full input line has dropped, for its note */
    char extra[600];       /* a transient note from the screen itself */
    char title[96];
    unsigned version;      /* chat->version drawn last */
    int save_submitted;    /* ST_SAVING: the save job is on the worker */
} S;

/* The note a first Ctrl-C during a reply leaves; the job's end takes it away. */
static const char STOPPING_NOTE[] = "stopping the reply (Ctrl-C again quits)";

static void screen_note(const char *msg) {
    snprintf(S.extra, sizeof S.extra, "%s", msg);
    S.dirty = 1;
}

/* ---- jobs ---- */

static void job_run(void *p) {
    Job *j = p;
    if (j->cmd) commands_run(j->chat, j->cmd, j->text);
    else if (chat_say(j->chat, j->text, j->len) != 0) chat_note(j->chat, 1, "%s", err_msg());
    free(j->text);
    free(j);
}

static int submit(const SlashCommand *cmd, const char *text, size_t len) {
    Job *j = xcalloc(1, sizeof *j);
    j->chat = S.c, j->cmd = cmd, j->len = len;
    j->text = xmalloc(len + 1);
    memcpy(j->text, text, len);
    j->text[len] = 0;
    S.c->stop = 0;
    S.extra[0] = 0;
    if (worker_submit(&S.worker, job_run, j) != 0) {
        free(j->text);
        free(j);
        screen_note("still busy with the last reply (Ctrl-C stops it)");
        return -1;
    }
    S.scroll = 0;
    S.dirty = 1;
    return 0;
}

/* ---- quitting ---- */

/* Quitting counts the unsaved updates only once the job in progress is done: a rating
   still on the worker is an update that must be saved or asked about too. */
static void request_quit(void) {
    Chat *c = S.c;
    if (worker_busy(&S.worker)) {
        c->stop = 1;
        S.quit_after_job = 1;
        screen_note("quitting when the job in progress is done");
        return;
    }
    pthread_mutex_lock(&c->lock);
    int unsaved = c->unsaved;
    pthread_mutex_unlock(&c->lock);
    if (!unsaved) {
        S.state = ST_QUIT;
    } else if (c->autosave && !S.save_failed) {
        S.state = ST_SAVING;
    } else {
        S.state = ST_ASK_SAVE;
    }
    S.dirty = 1;
}

/* ---- commands and messages ---- */

/* The commands that run beside a reply in progress; the rest wait for it. */
static int runs_while_busy(const SlashCommand *cmd) { return !strcmp(cmd->name, "help") || !strcmp(cmd->name, "quit"); }

static void run_command(const SlashCommand *cmd, const char *args) {
    Chat *c = S.c;
    int busy = worker_busy(&S.worker);
    if (busy && !runs_while_busy(cmd)) {
        screen_note("busy with a reply: wait a moment, or Ctrl-C to stop it");
        return;
    }
    S.extra[0] = 0;
    S.undoing = !strcmp(cmd->name, "undo");
    if (cmd->slow) {
        submit(cmd, args, strlen(args));
        return;
    }
    commands_run(c, cmd, args);
    if (c->want_help) c->want_help = 0, S.state = ST_HELP;
    if (c->want_quit) c->want_quit = 0, request_quit();
    S.dirty = 1;
}

/* e (or /edit alone): the last reply goes on the input line as "/edit REPLY", to be
   changed and sent; Enter teaches the changed version. */
static void start_edit(void) {
    Chat *c = S.c;
    pthread_mutex_lock(&c->lock);
    int i = c->reply;
    char *line = NULL;
    if (i >= 0 && !c->entries[i].blocked) {
        line = xmalloc(c->entries[i].len + 8);
        memcpy(line, "/edit ", 6);
        memcpy(line + 6, c->entries[i].text, c->entries[i].len);
        line[c->entries[i].len + 6] = 0;
    }
    pthread_mutex_unlock(&c->lock);
    if (!line) {
        screen_note("nothing to edit yet: say something first");
        return;
    }
    input_set_text(line);
    free(line);
    screen_note("change the reply and press Enter: your version is learned over it (Ctrl-C cancels)");
}

static void run_named(const char *name, const char *args) {
    if (!strcmp(name, "edit")) {
        start_edit();
        return;
    }
    const char *unused;
    const SlashCommand *cmd = commands_find(name, &unused);
    if (cmd) run_command(cmd, args);
}

/* A line as typed: a command, or a message ("//x" sends "/x"). */
static void dispatch_line(const char *line, size_t len) {
    if (line[0] == '/' && line[1] != '/') {
        const char *args;
        const SlashCommand *cmd = commands_find(line, &args);
        if (cmd && !strcmp(cmd->name, "edit") && !*args) start_edit();
        else if (cmd) run_command(cmd, args);
        else screen_note(err_msg());
    } else if (len > 0) {
        int slash = line[0] == '/';
        S.undoing = 0;
        submit(NULL, line + slash, len - (size_t)slash);
    }
}

/* readline hands over each accepted line here. While the worker is busy, or lines wait
   already, it waits its turn: a message or command typed (or pasted) during a reply is
   neither lost nor run out of order. /help and /quit act at once. */
static void on_line(void *ctx, char *line) {
    if (!line) { /* end of input */
        request_quit();
        return;
    }
    size_t len = strlen(line);
    const char *args;
    const SlashCommand *cmd = line[0] == '/' && line[1] != '/' ? commands_find(line, &args) : NULL;
    if (len > 0 && !(cmd && runs_while_busy(cmd)) && (worker_busy(&S.worker) || S.n_pending)) {
        S.pending = xrealloc(S.pending, (size_t)(S.n_pending + 1) * sizeof *S.pending);
        S.pending[S.n_pending++] = line;
        screen_note(S.n_pending == 1 ? "that waits for the reply in progress, then goes"
                                     : "those wait their turn, one by one, behind the reply in progress");
        return;
    }
    dispatch_line(line, len);
    free(line);
}

/* ---- keys ---- */

static void ctrl_c(void) {
    Chat *c = S.c;
    double now = now_seconds();
    if (worker_busy(&S.worker)) {
        if (c->stop && now - S.last_ctrl_c < QUIT_WINDOW) {
            request_quit();
        } else {
            c->stop = 1;
            S.last_ctrl_c = now;
            screen_note(STOPPING_NOTE);
        }
        return;
    }
    if (!input_empty()) {
        input_clear();
        return;
    }
    if (now - S.last_ctrl_c < QUIT_WINDOW) {
        request_quit();
        return;
    }
    S.last_ctrl_c = now;
    screen_note("press Ctrl-C again (or Ctrl-D) to quit");
}

/* The rating shortcut a key stands for on an empty line, given the last reply's state;
   NULL when the key is text. */
static const char *shortcut(int ch, char *args) {
    const Chat *c = S.c;
    args[0] = 0;
    if (ch == '?') return "help";
    pthread_mutex_lock(&S.c->lock);
    int reply = c->reply, alt = c->alt;
    int rateable = reply >= 0 && !c->entries[reply].blocked && !c->entries[reply].rating[0];
    int rated = reply >= 0 && c->entries[reply].rating[0];
    pthread_mutex_unlock(&S.c->lock);
    if (alt >= 0 && (ch == 'a' || ch == 'b')) {
        args[0] = (char)ch, args[1] = 0;
        return "prefer";
    }
    if (rateable && ch == '+') return "good";
    if (rateable && ch == '-') return "bad";
    if (rateable && ch >= '1' && ch <= '5') {
        args[0] = (char)ch, args[1] = 0;
        return "rate";
    }
    if (reply >= 0 && alt < 0 && !rated && ch == 'r') return "regen";
    if (rateable && alt < 0 && ch == 'e') return "edit";
    /* After an undo the reply it concerned is unrated (or, for an a/b choice, no longer
       chosen), yet u must still act: it undoes the update before, one at a time, or says
       there is nothing left to undo, rather than start a message with 'u'. */
    if ((rated || alt >= 0 || S.undoing) && ch == 'u') return "undo";
    return NULL;
}

/* The one input function: every key goes through here, by state. */
static void handle_key(int ch) {
    S.dirty = 1;
    if (ch == KEY_RESIZE) return; /* curses has the new size; the next frame uses it */
    switch (S.state) {
    case ST_HELP:
        if (ch != KEY_MOUSE) S.state = ST_CHAT;
        return;
    case ST_ASK_SAVE:
        /* Only n discards: Ctrl-C or Ctrl-D pressed once too often (or pasted) keeps chatting. */
        if (ch == 'y' || ch == 'Y') S.state = ST_SAVING, S.save_failed = 0;
        else if (ch == 'n' || ch == 'N') S.state = ST_QUIT, S.c->autosave = 0; /* chat_end must not save either */
        else if (ch == 27 || ch == KEY_CTRL('c') || ch == KEY_CTRL('d')) S.state = ST_CHAT;
        return;
    case ST_SAVING:
    case ST_QUIT:
        return;
    case ST_CHAT:
        break;
    }
    if (ch == KEY_CTRL('c')) {
        ctrl_c();
        return;
    }
    if (ch == KEY_CTRL('z')) { /* raw mode keeps the terminal from sending it; curses' own handler
                                   restores the terminal and redraws on fg */
        if (!S.burst) raise(SIGTSTP);
        return;
    }
    if (ch == KEY_CTRL('d') && input_empty()) {
        if (!S.burst) request_quit(); /* a pasted Ctrl-D is not a request to quit */
        return;
    }
    if (ch == KEY_PPAGE || ch == KEY_NPAGE || ch == KEY_MOUSE) {
        int d = ch == KEY_PPAGE ? ui_page_rows() : ch == KEY_NPAGE ? -ui_page_rows() : ui_wheel();
        S.scroll += d;
        if (S.scroll < 0) S.scroll = 0;
        return;
    }
    if (ch == KEY_F(1)) {
        S.state = ST_HELP;
        return;
    }
    char args[4];
    const char *name = input_empty() && !S.burst ? shortcut(ch, args) : NULL;
    if (name) {
        run_named(name, args);
        return;
    }
    input_feed(ch);
}

/* ---- the loop ---- */

/* Reveals the newest reply a few characters a frame (the reply is final and screened
   already; this is only for the feel of streaming). Returns 1 while something moves. */
static int animate(void) {
    Chat *c = S.c;
    int moving = 0;
    pthread_mutex_lock(&c->lock);
    for (int k = 0; k < 2; k++) {
        int i = k ? c->alt : c->reply;
        if (i < 0) continue;
        Entry *e = &c->entries[i];
        if (e->shown >= e->len) continue;
        size_t step = e->len / 24 + 2;
        while (step-- && e->shown < e->len) {
            uint32_t cp;
            e->shown += (size_t)utf8_decode(e->text + e->shown, e->len - e->shown, &cp);
        }
        moving = 1;
    }
    pthread_mutex_unlock(&c->lock);
    return moving;
}

/* The keys of an unrated reply, as the hint line shows them. */
#define RATING_KEYS "+ good  - bad  1-5 stars  r another  e edit  ? help"

static const char *hint_text(void) {
    const Chat *c = S.c;
    if (c->alt >= 0) return "a or b keeps the better reply";
    if (c->reply < 0) return NULL;
    const Entry *e = &c->entries[c->reply];
    if (e->blocked) return "withheld by the safety filter (reason below); r tries again";
    if (e->rating[0]) return "u undoes the rating";
    if (S.undoing && c->can_undo) return "u undoes one more  " RATING_KEYS;
    return RATING_KEYS;
}

/* The status bar's name: the profile, else the base model's file name (/show names both). */
static const char *title(const Chat *c) {
    const char *base = strrchr(c->model_path, '/');
    base = base ? base + 1 : c->model_path;
    snprintf(S.title, sizeof S.title, "%s", c->profile[0] ? c->profile : base);
    return S.title;
}

static void draw(void) {
    Chat *c = S.c;
    size_t len;
    const char *line = input_text(&len);
    char ask[160], fresh[32];
    const char *q = NULL;
    if (S.state == ST_ASK_SAVE) {
        const char *name = chat_save_name(c, fresh, sizeof fresh);
        int n = snprintf(ask, sizeof ask, "save %d unsaved updates to profile %s? y/n (Esc: keep chatting)",
                         c->unsaved, name);
        if (n >= getmaxx(stdscr)) /* narrow: the answer keys must stay in sight */
            snprintf(ask, sizeof ask, "save %d to %s? y/n/Esc", c->unsaved, name);
        q = ask;
    } else if (S.state == ST_SAVING) {
        q = "saving...";
    }
    const char *comp = input_completions();
    pthread_mutex_lock(&c->lock);
    UiView v = {.chat = c, .scroll = &S.scroll, .busy = worker_busy(&S.worker), .spinner = S.spinner,
                .help = S.state == ST_HELP, .hint = hint_text(), .title = title(c), .prompt = input_prompt(),
                .line = line, .line_len = len, .point = input_point(), .ask = q,
                .extra = S.extra[0] ? S.extra : comp[0] ? comp : NULL};
    S.version = c->version;
    ui_draw(&v);
    pthread_mutex_unlock(&c->lock);
    S.dirty = 0;
}

/* A worker job ended: pick up what follows it. */
static void after_job(void) {
    Chat *c = S.c;
    if (!strcmp(S.extra, STOPPING_NOTE)) S.extra[0] = 0; /* it has stopped: the chat says so */
    if (c->want_help) c->want_help = 0, S.state = ST_HELP;
    if (c->want_quit) c->want_quit = 0, request_quit();
    if (S.quit_after_job && !worker_busy(&S.worker)) S.quit_after_job = 0, request_quit();
    if (S.state == ST_SAVING && S.save_submitted && c->unsaved) { /* the save failed (its error is shown): */
        S.save_failed = 1;                                          /* ask, and let n leave */
        S.state = ST_ASK_SAVE;
    } else if (S.state == ST_SAVING && S.save_submitted) {
        S.state = ST_QUIT;
    }
}

/* The oldest waiting line goes once the worker is free and the chat is showing. */
static void send_pending(void) {
    if (!S.n_pending || S.state != ST_CHAT || S.quit_after_job || worker_busy(&S.worker)) return;
    char *p = S.pending[0];
    S.n_pending--;
    memmove(S.pending, S.pending + 1, (size_t)S.n_pending * sizeof *S.pending);
    dispatch_line(p, strlen(p));
    free(p);
}

int screen_run(Chat *c) {
    memset(&S, 0, sizeof S);
    S.c = c;
    S.state = ST_CHAT;
    S.last_ctrl_c = -1e9;
    frontend_catch_signals(on_signal); /* a signal wakes the key wait */
    signal(SIGPIPE, SIG_IGN);
    if (ui_init() != 0) return -1;
    char history[4096];
    const char *hist = profile_path(history, sizeof history, "history", "") == 0 ? history : NULL;
    if (input_init("> ", hist, on_line, NULL) != 0) ui_fatal("%s", err_msg());
    if (worker_start(&S.worker) != 0) ui_fatal("%s", err_msg());
    S.jobs_seen = worker_finished(&S.worker);
    S.dirty = 1;
    int status = 0;
    while (S.state != ST_QUIT) {
        if (got_signal) {
            status = 128 + got_signal;
            break;
        }
        if (got_sigint) {
            got_sigint = 0;
            handle_key(KEY_CTRL('c'));
        }
        int busy = worker_busy(&S.worker);
        int done = worker_finished(&S.worker);
        if (S.state != ST_SAVING) S.save_submitted = 0;
        if (S.state == ST_SAVING && !busy && !S.save_submitted && done == S.jobs_seen) {
            const char *unused;
            S.save_submitted = submit(commands_find("/save", &unused), "", 0) == 0;
            continue;
        }
        if (done != S.jobs_seen) {
            S.jobs_seen = done;
            after_job();
            S.dirty = 1;
            continue;
        }
        send_pending();
        int moving = animate();
        if (busy) S.spinner++;
        pthread_mutex_lock(&c->lock);
        int changed = c->version != S.version;
        pthread_mutex_unlock(&c->lock);
        if (input_take_dirty()) S.dirty = 1;
        if (moving || busy || S.dirty || changed) draw();
        if (S.state == ST_QUIT) break;
        timeout(moving || busy ? TICK_MS : IDLE_MS);
        int ch = getch();
        if (ch == ERR) continue;
        timeout(0);
        /* Keys that arrive together in one frame are a paste (no one types that fast): they
           are text, so a pasted "-" or "+" does not rate the reply, nor a Ctrl-D quit. */
        int next = getch();
        S.burst = next != ERR;
        for (int n = 0; ch != ERR && n < KEYS_PER_FRAME; n++) {
            handle_key(ch);
            if (S.state == ST_QUIT) break;
            ch = next;
            next = ch != ERR && n + 2 < KEYS_PER_FRAME ? getch() : ERR;
        }
        if (next != ERR) ungetch(next);
        S.burst = 0;
        size_t dropped = input_take_dropped();
        if (input_empty()) S.dropped = 0;
        if (dropped) {
            char msg[128];
            S.dropped += dropped;
            snprintf(msg, sizeof msg, "the input line is full (%d bytes): %zu bytes dropped", INPUT_MAX, S.dropped);
            screen_note(msg);
        }
    }
    c->stop = 1;
    worker_stop(&S.worker); /* waits for a reply in progress, which stop ends at once */
    input_done();
    ui_done();
    for (int i = 0; i < S.n_pending; i++) free(S.pending[i]);
    free(S.pending);
    return chat_end(c, status);
}
