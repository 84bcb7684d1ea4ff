/* plain: the chat for scripts, pipes and tests. Each input line is a message or a slash
   command; each reply is printed as one line on stdout and flushed at once; everything
   else (notes, errors, /show, /help) goes to stderr. It uses exactly the same commands
   and Chat operations as the screen. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int plain_run(Chat *c) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    signal(SIGPIPE, SIG_IGN); /* a reader that goes away must not cost the autosave */
    frontend_catch_signals(on_signal); /* Ctrl-C too: it ends the chat, saved as on quit */
    while (!c->want_quit && !got_signal && (n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;
        plain_line(c, line, (size_t)n);
    }
    free(line);
    return chat_end(c, got_signal ? 128 + got_signal : 0); /* as the screen ends on a signal */
}

void frontend_catch_signals(void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}
