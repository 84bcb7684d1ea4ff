/* commands: the slash commands, in one table shared by the screen and plain mode, so both
   behave the same. The screen's rating keys are shortcuts for the same entries (`+` runs
   /good). A line that does not start with '/' is a message; "//" sends a literal '/'. */
#ifndef RLCHAT_COMMANDS_H
#define RLCHAT_COMMANDS_H

#include "app/conversation.h"

typedef struct {
    const char *name;    /* without the slash */
    const char *args;    /* argument synopsis for help ("" none) */
    const char *help;    /* one line */
    int slow;            /* 1: uses the model (the screen runs it on its worker thread) */
    int (*run)(Chat *c, const char *args);   /* 0, or -1 with err_msg() */
} SlashCommand;

/* The table, ended by an entry with name NULL. */
const SlashCommand *commands_table(void);
/* Finds the command a line ("/name args") names; *args points into line after the name
   and its spaces, or at a '!' right after the name ("/reset!" forces a reset). NULL with
   err_msg() for an unknown name. */
const SlashCommand *commands_find(const char *line, const char **args);
/* Runs cmd; on failure the error is shown through chat_note. Returns what run returned. */
int commands_run(Chat *c, const SlashCommand *cmd, const char *args);
/* The command list as help text (a static string). */
const char *commands_help(void);
/* Readline-style generator: the state-th command (with slash) starting with prefix, as a
   new string, or NULL when there are no more. */
char *commands_complete(const char *prefix, int state);

#endif
