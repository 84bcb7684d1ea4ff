/* input: see input.h. */
#include "app/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "app/commands.h"
#include "app/conversation.h"
#include "app/text.h"
#include "model/utf8.h"
#include "model/util.h"

#define HISTORY_MAX 1000
#define HISTORY_LINE_MAX 4096 /* longer lines (pastes) are not kept in the history */

static struct {
    unsigned char queue[16];  /* bytes waiting for readline's getc */
    int head, tail;
    int dirty;                /* the line changed: redraw */
    size_t dropped;           /* bytes dropped because the line was full */
    char completions[512];    /* the last list of matches */
    char history_path[4096];  /* "" none */
    char prompt[64];          /* the line's prompt */
    LineFn on_line;
    void *ctx;
    FILE *devnull;            /* readline's output stream: it never writes to the terminal */
    int utf8;                 /* the locale is UTF-8: readline gets whole characters only */
    char pending[4];          /* the bytes of a character still being typed */
    int n_pending;            /* ... held: fewer than its lead byte announces */
} I;

/* ---- readline's hooks ---- */

static int input_getc(FILE *unused) {
    if (I.head == I.tail) return 0; /* not reached: readline reads only what is queued */
    int c = I.queue[I.head];
    I.head = (I.head + 1) % (int)sizeof I.queue;
    return c;
}

static int input_available(void) { return I.head != I.tail; }

static void input_redisplay(void) { I.dirty = 1; }

static void input_line(char *line) {
    if (line && *line && strlen(line) <= HISTORY_LINE_MAX) add_history(line);
    I.completions[0] = 0;
    I.dirty = 1;
    if (I.on_line) I.on_line(I.ctx, line);
}

/* ---- completion ---- */

static char *setting_generator(const char *text, int state) {
    static int next;
    const char *const *names = chat_setting_names();
    if (state == 0) next = 0;
    size_t n = strlen(text);
    while (names[next]) {
        const char *s = names[next++];
        if (!strncmp(s, text, n)) return strdup(s);
    }
    return NULL;
}

static char **input_complete(const char *text, int start, int end) {
    rl_attempted_completion_over = 1; /* never fall back to file names */
    if (start == 0 && text[0] == '/') return rl_completion_matches(text, commands_complete);
    if (!strncmp(rl_line_buffer, "/set ", 5) && start == 5 + (int)strspn(rl_line_buffer + 5, " "))
        return rl_completion_matches(text, setting_generator);
    return NULL;
}

static void input_show_matches(char **matches, int n, int max_len) {
    size_t o = 0;
    I.completions[0] = 0;
    for (int i = 1; i <= n && o + 2 < sizeof I.completions; i++)
        o += (size_t)snprintf(I.completions + o, sizeof I.completions - o, "%s%s", i > 1 ? "  " : "", matches[i]);
    I.dirty = 1;
}

/* ---- interface ---- */

int input_init(const char *prompt, const char *history_path, LineFn on_line, void *ctx) {
    memset(&I, 0, sizeof I);
    I.on_line = on_line;
    I.ctx = ctx;
    I.utf8 = locale_is_utf8();
    I.devnull = fopen("/dev/null", "w");
    if (!I.devnull) {
        err_set("cannot open /dev/null for readline");
        return -1;
    }
    rl_readline_name = "rlchat";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = NULL;
    rl_deprep_term_function = NULL;
    rl_outstream = I.devnull;
    rl_getc_function = input_getc;
    rl_input_available_hook = input_available;
    rl_redisplay_function = input_redisplay;
    rl_attempted_completion_function = input_complete;
    rl_completion_display_matches_hook = input_show_matches;
    rl_variable_bind("bell-style", "none");
    rl_variable_bind("enable-bracketed-paste", "off");
    rl_variable_bind("horizontal-scroll-mode", "on");
    rl_variable_bind("show-all-if-ambiguous", "on");
    using_history();
    stifle_history(HISTORY_MAX);
    if (history_path) {
        snprintf(I.history_path, sizeof I.history_path, "%s", history_path);
        read_history(I.history_path); /* a missing file is fine */
    }
    snprintf(I.prompt, sizeof I.prompt, "%s", prompt);
    rl_callback_handler_install(I.prompt, input_line);
    I.dirty = 1;
    return 0;
}

void input_done(void) {
    rl_callback_handler_remove();
    if (I.history_path[0]) write_history(I.history_path);
    if (I.devnull) fclose(I.devnull);
    I.devnull = NULL;
    rl_outstream = NULL;
}

/* Queues bytes and lets readline consume them all. */
static void feed_bytes(const char *s, int n) {
    for (int i = 0; i < n; i++) {
        int next = (I.tail + 1) % (int)sizeof I.queue;
        if (next == I.head) break;
        I.queue[I.tail] = (unsigned char)s[i];
        I.tail = next;
    }
    while (I.head != I.tail) rl_callback_read_char();
}

/* ---- whole characters ---- */

/* In a UTF-8 locale readline mangles a broken sequence typed at it: "x", 0xC3, "ab" came
   out "xab", the lead byte swallowed. So it only ever gets whole characters: a byte no
   character starts with, or a sequence cut short by the next byte (or a key), becomes
   U+FFFD, as a terminal shows it, and the next byte starts afresh. */
static void feed_replacement(void) { feed_bytes("\xEF\xBF\xBD", 3); }

static void drop_pending(void) {
    if (I.n_pending) feed_replacement();
    I.n_pending = 0;
}

static void feed_byte(unsigned char b) {
    if (!I.utf8) {
        feed_bytes((const char *)&b, 1);
        return;
    }
    if (I.n_pending && (b & 0xC0) == 0x80) {
        I.pending[I.n_pending++] = (char)b;
        if (I.n_pending < utf8_char_len((unsigned char)I.pending[0])) return;
        uint32_t cp;
        int whole = utf8_decode(I.pending, (size_t)I.n_pending, &cp) == I.n_pending; /* not overlong, no surrogate */
        if (whole) feed_bytes(I.pending, I.n_pending);
        else feed_replacement();
        I.n_pending = 0;
        return;
    }
    drop_pending();
    int n = utf8_char_len(b);
    if (n == 1) feed_bytes((const char *)&b, 1);
    else if (n == 0) feed_replacement();
    else I.pending[0] = (char)b, I.n_pending = 1;
}

void input_feed(int key) {
    const char *seq = NULL;
    switch (key) {
    case KEY_UP: seq = "\033[A"; break;
    case KEY_DOWN: seq = "\033[B"; break;
    case KEY_RIGHT: seq = "\033[C"; break;
    case KEY_LEFT: seq = "\033[D"; break;
    case KEY_HOME: seq = "\033[H"; break;
    case KEY_END: seq = "\033[F"; break;
    case KEY_DC: seq = "\033[3~"; break;
    case KEY_BACKSPACE: seq = "\177"; break;
    case KEY_ENTER: seq = "\r"; break;
    default: break;
    }
    if (seq) {
        drop_pending();
        feed_bytes(seq, (int)strlen(seq));
        return;
    }
    if (key < 0 || key > 255) return; /* other curses keys mean nothing to the line */
    if (key != '\t') I.completions[0] = 0;
    /* A full line takes no more text (control keys still edit it). */
    if ((key >= 0x20 && key != 0x7F) && rl_end >= INPUT_MAX && !RL_ISSTATE(RL_STATE_ISEARCH)) {
        I.dropped++;
        return;
    }
    feed_byte((unsigned char)key);
}

void input_clear(void) {
    I.n_pending = 0;
    rl_callback_sigcleanup(); /* leaves an incremental search or a multi-key sequence */
    rl_replace_line("", 0);
    rl_point = rl_end = rl_mark = 0;
    I.completions[0] = 0;
    rl_callback_handler_install(I.prompt, input_line); /* resets readline's state */
    I.dirty = 1;
}

void input_set_text(const char *text) {
    input_clear();
    rl_replace_line(text, 0);
    rl_point = rl_end;
    I.dirty = 1;
}

int input_empty(void) {
    return I.n_pending == 0 && rl_end == 0 &&
           !RL_ISSTATE(RL_STATE_ISEARCH | RL_STATE_NSEARCH | RL_STATE_MULTIKEY | RL_STATE_METANEXT);
}

const char *input_prompt(void) { return rl_display_prompt ? rl_display_prompt : ""; }

const char *input_text(size_t *len) {
    *len = rl_line_buffer ? (size_t)rl_end : 0;
    return rl_line_buffer ? rl_line_buffer : "";
}

size_t input_point(void) { return (size_t)rl_point; }

int input_take_dirty(void) {
    int d = I.dirty;
    I.dirty = 0;
    return d;
}

size_t input_take_dropped(void) {
    size_t d = I.dropped;
    I.dropped = 0;
    return d;
}

const char *input_completions(void) { return I.completions; }
