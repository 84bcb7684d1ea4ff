/* input: the input line, edited by GNU readline through its callback interface inside
   the curses loop. Readline never touches the terminal: the screen feeds it bytes (and
   curses keys turned into the escape sequences readline knows), and draws the line
   itself from input_prompt/input_text/input_point. History persists in a file; Tab
   completes slash commands and /set keys. */
#ifndef RLCHAT_INPUT_H
#define RLCHAT_INPUT_H

#include <stddef.h>

#define INPUT_MAX 65536   /* bytes of the line; more typed or pasted is dropped (and said) */

/* Called with each accepted line (owned by the callee, who frees it), or NULL for end of
   input. */
typedef void (*LineFn)(void *ctx, char *line);

/* Installs the callback handler. history_path may be NULL (no persistent history). */
int input_init(const char *prompt, const char *history_path, LineFn on_line, void *ctx);
/* Saves the history and removes the handler. */
void input_done(void);

/* Feeds one byte (typed text, control keys) or one curses KEY_* code. */
void input_feed(int key);
/* Drops the line being edited (Ctrl-C), leaving any search. */
void input_clear(void);
/* Replaces the line with text, the cursor at its end (e: the reply to edit). */
void input_set_text(const char *text);
/* 1 when the line is empty and no search or completion is in progress. */
int input_empty(void);

/* What to draw: the prompt (readline's, e.g. during Ctrl-R), the line and the cursor. */
const char *input_prompt(void);
const char *input_text(size_t *len);
size_t input_point(void);
/* Takes the flags readline's redisplay raised: 1 when the line changed since the last call. */
int input_take_dirty(void);
/* Bytes dropped since the last call because the line was full. */
size_t input_take_dropped(void);
/* The last completion list, when Tab found several matches (static; "" none). */
const char *input_completions(void);

#endif
