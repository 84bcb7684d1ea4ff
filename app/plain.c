/* plain: the chat for scripts, pipes and tests. Each input line is a message or a slash
   command; each reply is printed as one line on stdout and flushed at once; everything
   else (notes, errors, /show, /help) goes to stderr. It uses exactly the same commands
   and Chat operations as the screen. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/commands.h"
#include "app/frontend.h"
#include "model/util.h"

/* One input line: a command, or a message ("//x" sends "/x"). */
static void plain_line(Chat *c, char *line, size_t len) {
    if (line[0] == '/' && line[1] != '/') {
        const char *args;
        const SlashCommand *cmd = commands_find(line, &args);
        if (!cmd) {
            chat_note(c, 1, "%s", err_msg());
            return;
        }
        commands_run(c, cmd, args);
        if (c->want_help) {
            fputs(commands_help(), stderr);
            fflush(stderr);
            c->want_help = 0;
        }
        return;
    }
    if (line[0] == '/') line++, len--;
    if (chat_say(c, line, len) != 0) chat_note(c, 1, "%s", err_msg());
}

static volatile sig_atomic_t got_signal; /* SIGTERM, SIGHUP, SIGINT: stop reading, then autosave */

static void on_signal(int sig) { got_signal = sig; }

/* Standard input, read a line at a time by hand rather than with getline: a signal may be
   delivered to another thread (OpenBLAS's, the team's), which leaves a blocking read
   waiting, so the wait for input wakes up every POLL_MS to look for one. */
#define POLL_MS 200
typedef struct {
    char *data;        /* bytes read and not yet handed out, from data + start */
    size_t start, len, cap;
    int eof;           /* no more to read */
} LineReader;

/* The next line, newline removed and NUL-terminated, owned by r until the next call, with
   its length in *n; NULL at the end of input or once a signal was caught. */
static char *next_line(LineReader *r, size_t *n) {
    for (;;) {
        char *nl = r->len > r->start ? memchr(r->data + r->start, '\n', r->len - r->start) : NULL;
        if (nl || (r->eof && r->len > r->start)) {
            char *line = r->data + r->start;
            size_t end = nl ? (size_t)(nl - r->data) : r->len;
            *n = end - r->start;
            r->data[end] = 0; /* over the newline, or into the spare byte kept below */
            r->start = nl ? end + 1 : r->len;
            return line;
        }
        if (r->eof || got_signal) return NULL;
        if (r->start > 0) { /* what is left moves to the front before more is read */
            memmove(r->data, r->data + r->start, r->len - r->start);
            r->len -= r->start, r->start = 0;
        }
        if (r->cap - r->len < 4097) r->data = xrealloc(r->data, r->cap = r->cap * 2 + 8192);
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        if (poll(&p, 1, POLL_MS) <= 0) continue; /* nothing yet, or a signal: look again */
        ssize_t got = read(STDIN_FILENO, r->data + r->len, r->cap - r->len - 1);
        if (got > 0) r->len += (size_t)got;
        else if (got == 0 || errno != EINTR) r->eof = 1;
    }
}

int plain_run(Chat *c) {
    LineReader in = {0};
    char *line;
    size_t n;
    signal(SIGPIPE, SIG_IGN); /* a reader that goes away must not cost the autosave */
    frontend_catch_signals(on_signal); /* Ctrl-C too: it ends the chat, saved as on quit */
    while (!c->want_quit && !got_signal && (line = next_line(&in, &n))) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;
        plain_line(c, line, n);
    }
    free(in.data);
    return chat_end(c, got_signal ? 128 + got_signal : 0); /* as the screen ends on a signal */
}
