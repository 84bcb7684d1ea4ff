/* ui: everything curses. Setup and teardown (with a fatal path that restores the terminal
   before printing), the layout and the drawing of one frame:

     transcript   word-wrapped, scrollable, a hint line under the reply to rate
     status bar   model/profile, ratings, last reward, sparkline, KL, update time
     message      the last note or error, or the reward breakdown
     input        the readline line (or a question such as "save?")

   A frame is built on curses' virtual screen and sent to the terminal once (no flicker).
   Nothing here knows about the model: the screen hands over a UiView. */
#ifndef RLCHAT_UI_H
#define RLCHAT_UI_H

#include <stddef.h>

#include "app/conversation.h"

#define UI_MIN_COLS 40
#define UI_MIN_ROWS 10

/* What a frame shows. */
typedef struct {
    const Chat *chat;         /* transcript and status; the caller holds chat->lock */
    int *scroll;              /* transcript lines scrolled back from the bottom; clamped here */
    int busy;                 /* a reply or an update is running */
    int spinner;              /* frame counter for the busy mark */
    int help;                 /* the help overlay is open */
    const char *hint;         /* keys that act on the last reply (under it), or NULL */
    const char *title;        /* the profile or model name */
    const char *prompt;       /* the input line: its prompt (readline's, e.g. during Ctrl-R), */
    const char *line;         /*   its text (raw bytes, sanitized here), */
    size_t line_len;          /*   length */
    size_t point;             /*   and cursor (byte offset) */
    const char *ask;          /* a question shown instead of the input line, or NULL */
    const char *extra;        /* a transient note that overrides the chat's message, or NULL */
} UiView;

/* Sets up the terminal (raw keys, keypad, mouse wheel, colours unless NO_COLOR) and makes
   fatal_hook restore it. -1 with err_msg() when there is no usable terminal. */
int ui_init(void);
/* Restores the terminal; safe to call more than once, and from the fatal path. */
void ui_done(void);
/* Restores the terminal, prints the message and exits with status 1. */
void ui_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

void ui_draw(const UiView *v);
/* Rows of the transcript pane (for PgUp/PgDn). */
int ui_page_rows(void);
/* After KEY_MOUSE: lines to scroll back (> 0) or forward (< 0); 0 for other events. */
int ui_wheel(void);

#endif
