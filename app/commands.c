/* commands: see commands.h. */
#include "app/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/util.h"
#include "rl/reward.h"

/* A copy of the first word of args into out; returns what follows it. */
static const char *word(const char *args, char *out, size_t n) {
    while (*args == ' ') args++;
    size_t i = 0;
    while (*args && *args != ' ') {
        if (i + 1 < n) out[i++] = *args;
        args++;
    }
    out[i] = 0;
    while (*args == ' ') args++;
    return args;
}

/* -1 with a usage message when words are left over: "/save a b" must not save "a". */
static int nothing_left(const char *rest, const char *usage) {
    if (!*rest) return 0;
    err_set("unexpected '%s' (usage: %s)", rest, usage);
    return -1;
}

static int cmd_good(Chat *c, const char *a) { return chat_rate(c, 1.0f, "good", "+1"); }
static int cmd_bad(Chat *c, const char *a) { return chat_rate(c, -1.0f, "bad", "-1"); }

static int cmd_rate(Chat *c, const char *a) {
    if (a[0] < '1' || a[0] > '5' || (a[1] && a[1] != ' ')) {
        err_set("usage: /rate N with N from 1 (bad) to 5 (good)");
        return -1;
    }
    char label[8];
    snprintf(label, sizeof label, "%c/5", a[0]);
    return chat_rate(c, human_from_stars(a[0] - '0'), label, label);
}

static int cmd_undo(Chat *c, const char *a) { return chat_undo(c); }
static int cmd_regen(Chat *c, const char *a) { return chat_regen(c); }

static int cmd_edit(Chat *c, const char *a) {
    if (!*a) {
        err_set("usage: /edit YOUR VERSION OF THE REPLY (on the screen, e puts the reply on the input line)");
        return -1;
    }
    return chat_teach(c, a, strlen(a));
}

static int cmd_prefer(Chat *c, const char *a) {
    if ((a[0] != 'a' && a[0] != 'b') || (a[1] && a[1] != ' ')) {
        err_set("usage: /prefer a|b (after /regen)");
        return -1;
    }
    return chat_prefer(c, a[0] == 'b');
}

static int cmd_save(Chat *c, const char *a) {
    char name[128];
    if (nothing_left(word(a, name, sizeof name), "/save [NAME]") != 0) return -1;
    return chat_save(c, name[0] ? name : NULL);
}

static int cmd_load(Chat *c, const char *a) {
    char name[128];
    if (nothing_left(word(a, name, sizeof name), "/load NAME") != 0) return -1;
    return chat_load(c, name);
}

static int cmd_models(Chat *c, const char *a) {
    ProfileInfo *p;
    int n;
    if (profile_list(&p, &n) != 0) return -1;
    Buf b = {0};
    char line[256];
    int w = snprintf(line, sizeof line, n ? "saved profiles:\n" : "no saved profiles yet (/save NAME makes one)");
    buf_put(&b, line, (size_t)w);
    for (int i = 0; i < n; i++) {
        char when[32];
        struct tm tm;
        localtime_r(&p[i].mtime, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        w = snprintf(line, sizeof line, "  %-20s %s  %d ratings%s\n", p[i].name, when, p[i].ratings,
                     strcmp(p[i].name, c->profile) ? "" : "  (current)");
        buf_put(&b, line, (size_t)w);
    }
    buf_put(&b, "", 1);
    chat_print(c, (const char *)b.data);
    buf_free(&b);
    free(p);
    return 0;
}

static int cmd_reset(Chat *c, const char *a) {
    int drop = *a == '!'; /* "/reset!": drop the unsaved updates */
    a += drop;
    while (*a == ' ') a++;
    if (nothing_left(a, "/reset, or /reset! to drop unsaved updates") != 0) return -1;
    return chat_reset(c, drop);
}

static int cmd_set(Chat *c, const char *a) {
    char key[64], value[64];
    a = word(a, key, sizeof key);
    if (nothing_left(word(a, value, sizeof value), "/set KEY VALUE") != 0) return -1;
    return chat_set(c, key, value);
}

static int cmd_show(Chat *c, const char *a) {
    char *s = chat_settings(c);
    chat_print(c, s);
    free(s);
    return 0;
}

static int cmd_clear(Chat *c, const char *a) {
    chat_clear(c);
    return 0;
}

static int cmd_export(Chat *c, const char *a) { /* the rest of the line: a path may hold spaces */
    char path[4096];
    while (*a == ' ') a++;
    snprintf(path, sizeof path, "%s", a);
    for (size_t n = strlen(path); n > 0 && path[n - 1] == ' '; n--) path[n - 1] = 0;
    return chat_export(c, path);
}

static int cmd_help(Chat *c, const char *a) {
    c->want_help = 1;
    return 0;
}

static int cmd_quit(Chat *c, const char *a) {
    c->want_quit = 1;
    return 0;
}

static const SlashCommand TABLE[] = {
    {"help", "", "this list (the screen: ? or F1 shows the keys too)", 0, cmd_help},
    {"good", "", "rate the last reply good (key +)", 1, cmd_good},
    {"bad", "", "rate the last reply bad (key -)", 1, cmd_bad},
    {"rate", "N", "rate the last reply 1 (bad) to 5 (good) (keys 1..5)", 1, cmd_rate},
    {"undo", "", "undo the last rating and its update (key u)", 1, cmd_undo},
    {"regen", "", "sample another reply b to the last message (key r)", 1, cmd_regen},
    {"prefer", "a|b", "keep reply a or b: a preference update (keys a, b)", 1, cmd_prefer},
    {"edit", "TEXT", "teach by example: TEXT, your version of the last reply, is learned over it (key e)", 1,
     cmd_edit},
    {"save", "[NAME]", "save the personalised model as profile NAME (default: the current one); NAME! replaces another",
     1, cmd_save},
    {"load", "NAME", "load a saved profile (NAME! drops unsaved updates)", 1, cmd_load},
    {"models", "", "list saved profiles with their date and ratings", 0, cmd_models},
    {"reset", "[!]", "back to the base model, saved profiles kept (/reset! drops unsaved updates)", 1, cmd_reset},
    {"set", "KEY VALUE", "change a setting (temp, top_p, max_tokens, lr, beta, w_human, ...)", 1, cmd_set},
    {"show", "", "show the settings and the model's state", 0, cmd_show},
    {"clear", "", "start a new conversation with the same model", 1, cmd_clear},
    {"export", "FILE", "write the conversation as Markdown, with ratings", 0, cmd_export},
    {"quit", "", "leave (asks to save unsaved updates)", 0, cmd_quit},
    {NULL, NULL, NULL, 0, NULL}};

const SlashCommand *commands_table(void) { return TABLE; }

const SlashCommand *commands_find(const char *line, const char **args) {
    const char *p = line + (line[0] == '/');
    size_t n = strcspn(p, " !"); /* "/reset!": the '!' that forces it starts the args */
    for (const SlashCommand *c = TABLE; c->name; c++)
        if (strlen(c->name) == n && !strncmp(c->name, p, n)) {
            p += n;
            while (*p == ' ') p++;
            *args = p;
            return c;
        }
    err_set("unknown command '/%.*s' (/help lists them)", (int)(n > 40 ? 40 : n), p);
    return NULL;
}

int commands_run(Chat *c, const SlashCommand *cmd, const char *args) {
    /* A command that takes nothing refuses words after it, as /save a b does: "/undo 3"
       undid one update and "/clear!" cleared. */
    char usage[32];
    snprintf(usage, sizeof usage, "/%s", cmd->name);
    int rc = !cmd->args[0] ? nothing_left(args, usage) : 0;
    if (rc == 0) rc = cmd->run(c, args);
    chat_sync(c);
    if (rc != 0) chat_note(c, 1, "%s", err_msg());
    return rc;
}

const char *commands_help(void) {
    static char text[4096];
    if (text[0]) return text;
    size_t o = 0;
    o += (size_t)snprintf(text + o, sizeof text - o, "commands:\n");
    for (const SlashCommand *c = TABLE; c->name; c++) {
        char head[64];
        snprintf(head, sizeof head, "/%s %s", c->name, c->args);
        o += (size_t)snprintf(text + o, sizeof text - o, "  %-18s %s\n", head, c->help);
    }
    return text;
}

char *commands_complete(const char *prefix, int state) {
    static int next;
    if (state == 0) next = 0;
    const char *p = prefix + (prefix[0] == '/');
    size_t n = strlen(p);
    while (TABLE[next].name) {
        const SlashCommand *c = &TABLE[next++];
        if (!strncmp(c->name, p, n)) {
            char *s = xmalloc(strlen(c->name) + 2);
            s[0] = '/';
            strcpy(s + 1, c->name);
            return s;
        }
    }
    return NULL;
}
