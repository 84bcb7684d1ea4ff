/* frontend: the two ways to run a chat. Both read lines that are messages or slash
   commands (app/commands.h) and drive the same Chat (app/conversation.h). Each returns
   the process exit status. */
#ifndef RLCHAT_FRONTEND_H
#define RLCHAT_FRONTEND_H

#include "app/conversation.h"

/* Plain mode (app/plain.c): lines from stdin; each reply one line on stdout, flushed;
   command output and notes on stderr. */
int plain_run(Chat *c);
/* The curses screen (app/screen.c). -1 with err_msg() only when the terminal cannot be
   set up (the caller may then fall back to plain mode). */
int screen_run(Chat *c);
/* Both end on SIGTERM, SIGHUP and SIGINT through handler, installed without SA_RESTART so
   that the signal also ends a wait for input (app/frontend.c). */
void frontend_catch_signals(void (*handler)(int));

#endif
