/* test_commands: the slash commands (app/commands.h) on a Chat over a tiny untrained
   model. A line names one command exactly; an unknown one is named back; a command that
   takes nothing refuses words after it and does nothing; /set holds every setting to its
   range; '!' forces /reset and /load past unsaved updates; the help and the completion
   list every command. Profiles go to a temporary XDG_DATA_HOME. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/commands.h"
#include "model/checkpoint.h"
#include "tests/check.h"
#include "tests/tiny_model.h"

static char dir[64];
static char model_path[128];

/* A Chat in screen mode (its notes stay in c->message rather than on stderr) on a fresh
   session of the tiny model. */
static Chat *open_chat(void) {
    SessionConfig cfg = session_default_config();
    cfg.max_tokens = 6;
    Session *s = session_new(model_path, NULL, &cfg, 1);
    CHECK(s != NULL, "session_new: %s", err_msg());
    if (!s) exit(check_summary());
    Chat *c = xmalloc(sizeof *c);
    chat_init(c, s, model_path, 0);
    return c;
}

static void close_chat(Chat *c) {
    Session *s = c->session;
    chat_free(c);
    free(c);
    session_free(s);
}

/* Runs one typed line as the front ends do: 0 or -1 from the command, -2 when no command
   has that name. */
static int type(Chat *c, const char *line) {
    const char *args;
    const SlashCommand *cmd = commands_find(line, &args);
    return cmd ? commands_run(c, cmd, args) : -2;
}

static const SlashCommand *find(const char *name) {
    for (const SlashCommand *k = commands_table(); k->name; k++)
        if (!strcmp(k->name, name)) return k;
    return NULL;
}

/* A reply, rated good: one unsaved update. */
static void say_and_rate(Chat *c) {
    CHECK(chat_say(c, "hi there", 8) == 0, "chat_say: %s", err_msg());
    CHECK(type(c, "/good") == 0, "/good: %s", err_msg());
}

/* ---- finding a command ---- */

static void test_a_line_names_one_command_and_its_arguments(void) {
    static const struct { const char *line, *name, *args; } cases[] = {
        {"/good", "good", ""}, {"/save work", "save", "work"}, {"/save    work  ", "save", "work  "},
        {"/reset!", "reset", "!"}, {"/reset !", "reset", "!"}, {"/load work!", "load", "work!"},
        {"/set temp 0.5", "set", "temp 0.5"}, {"/export a b.md", "export", "a b.md"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *args = NULL;
        const SlashCommand *cmd = commands_find(cases[i].line, &args);
        CHECK(cmd && !strcmp(cmd->name, cases[i].name) && args && !strcmp(args, cases[i].args),
              "'%s' found %s with '%s', not %s with '%s'", cases[i].line, cmd ? cmd->name : "nothing",
              args ? args : "", cases[i].name, cases[i].args);
    }
}

static void test_an_unknown_command_is_named_in_the_error(void) {
    const char *args;
    CHECK(!commands_find("/nope 1 2", &args) && strstr(err_msg(), "'/nope'") && strstr(err_msg(), "/help"),
          "an unknown command: '%s'", err_msg());
    CHECK(!commands_find("/goo", &args), "a prefix of /good ran it");
    CHECK(!commands_find("/goodbye", &args), "/goodbye ran /good");
    CHECK(!commands_find("/", &args), "a bare slash named a command");
    char line[200] = "/";
    memset(line + 1, 'x', 150);
    line[151] = 0;
    CHECK(!commands_find(line, &args) && strlen(err_msg()) < 120, "a long unknown name is quoted whole: %zu bytes",
          strlen(err_msg()));
}

static void test_every_command_is_in_the_help_and_completes(void) {
    const char *help = commands_help();
    int n = 0;
    for (const SlashCommand *k = commands_table(); k->name; k++, n++) {
        char want[64];
        snprintf(want, sizeof want, "/%s ", k->name);
        CHECK(strstr(help, want) != NULL, "the help does not list %s", want);
        CHECK(k->help && *k->help && k->run, "/%s has no help or no function", k->name);
    }
    int completed = 0;
    for (char *s; (s = commands_complete("/", completed)); completed++) {
        CHECK(s[0] == '/' && find(s + 1), "'%s' completed, not a command", s);
        free(s);
    }
    CHECK(completed == n, "'/' completes to %d commands, not %d", completed, n);
    const char *want[] = {"/regen", "/reset", NULL};
    for (int i = 0;; i++) {
        char *s = commands_complete("/re", i);
        CHECK((s == NULL) == (want[i] == NULL) && (!s || !strcmp(s, want[i])), "completion %d of /re is %s", i,
              s ? s : "NULL");
        free(s);
        if (!want[i]) break;
    }
}

/* ---- running one ---- */

static void test_commands_that_take_nothing_refuse_words_after_them(void) {
    Chat *c = open_chat();
    say_and_rate(c);
    int entries = c->n_entries, refused = 0;
    for (const SlashCommand *k = commands_table(); k->name; k++) {
        if (k->args[0]) continue;
        char line[64], usage[64];
        snprintf(line, sizeof line, "/%s extra words", k->name);
        snprintf(usage, sizeof usage, "(usage: /%s)", k->name);
        int rc = type(c, line);
        CHECK(rc == -1 && strstr(err_msg(), "unexpected 'extra words'") && strstr(err_msg(), usage),
              "%s: rc %d, '%s'", line, rc, err_msg());
        refused++;
    }
    CHECK(refused >= 8, "only %d commands take nothing", refused);
    /* Refused means not run: the rating, the transcript and the flags are as they were. */
    CHECK(session_ratings(c->session) == 1 && session_unsaved(c->session) == 1, "'/undo extra words' undid");
    CHECK(type(c, "/clear!") == -1 && c->n_entries == entries, "/clear! cleared");
    CHECK(!c->want_quit && !c->want_help, "a refused /quit or /help raised its flag");
    /* The failure is shown as an error note. */
    CHECK(c->message_error && strstr(c->message, "unexpected"), "the note is '%s'", c->message);
    CHECK(type(c, "/undo") == 0 && session_ratings(c->session) == 0, "/undo alone did not undo");
    close_chat(c);
}

static void test_quit_and_help_only_raise_their_flags(void) {
    Chat *c = open_chat();
    CHECK(type(c, "/help") == 0 && c->want_help && !c->want_quit, "/help");
    CHECK(type(c, "/quit") == 0 && c->want_quit, "/quit");
    close_chat(c);
}

static void test_ratings_take_only_their_arguments(void) {
    Chat *c = open_chat();
    CHECK(chat_say(c, "hello", 5) == 0, "chat_say: %s", err_msg());
    const char *bad[] = {"/rate", "/rate 0", "/rate 6", "/rate 3x", "/rate x", "/rate 35"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(type(c, bad[i]) == -1 && strstr(err_msg(), "usage: /rate N"), "'%s': '%s'", bad[i], err_msg());
    CHECK(session_ratings(c->session) == 0, "a refused /rate rated");
    CHECK(type(c, "/rate 4") == 0 && session_ratings(c->session) == 1, "/rate 4: %s", err_msg());
    CHECK(!strcmp(c->entries[c->reply].rating, "4/5"), "the reply is marked '%s'", c->entries[c->reply].rating);
    CHECK(type(c, "/prefer c") == -1 && strstr(err_msg(), "usage: /prefer a|b"), "/prefer c: '%s'", err_msg());
    CHECK(type(c, "/prefer ab") == -1, "/prefer ab ran");
    close_chat(c);
}

static void test_set_changes_a_setting_within_its_range_only(void) {
    Chat *c = open_chat();
    SessionConfig *cfg = session_config(c->session);
    LearnerConfig *live = learner_config(session_learner(c->session));
    CHECK(type(c, "/set temp 0") == 0 && cfg->sampling.temperature == 0, "/set temp 0: %s", err_msg());
    CHECK(type(c, "/set max_tokens 1000") == 0 && cfg->max_tokens == 1000, "the top of a range refused");
    CHECK(type(c, "/set top_p 0.01") == 0 && cfg->sampling.top_p == 0.01f, "the bottom of a range refused");
    SessionConfig before = *cfg;
    static const struct { const char *line, *says; } refused[] = {
        {"/set top_p 7", "top_p wants a number between 0.01 and 1, not '7'"},
        {"/set max_tokens 0", "max_tokens wants a whole number between 1 and 1000"},
        {"/set max_tokens 1001", "between 1 and 1000"},
        {"/set top_k 2.5", "top_k wants a whole number"},
        {"/set temp nan", "temp wants a number"},
        {"/set temp inf", "temp wants a number"},
        {"/set temp 1e999", "temp wants a number"},
        {"/set temp 0.5x", "temp wants a number"},
        {"/set nope 1", "unknown setting 'nope'"},
        {"/set temp", "usage: /set KEY VALUE"},
        {"/set", "usage: /set KEY VALUE"},
        {"/set temp 1 junk", "unexpected 'junk'"},
        {"/set algo nope", "nope"}};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        CHECK(type(c, refused[i].line) == -1 && strstr(err_msg(), refused[i].says), "'%s': '%s', not '%s'",
              refused[i].line, err_msg(), refused[i].says);
    CHECK(!memcmp(&before, cfg, sizeof before), "a refused /set changed the settings");
    /* The learner keeps its own copy of its settings: /set reaches it too. */
    CHECK(type(c, "/set lr 0.002") == 0 && cfg->learn.lr == 0.002f && live->lr == 0.002f, "/set lr: %g and %g",
          (double)cfg->learn.lr, (double)live->lr);
    CHECK(type(c, "/set candidates 2") == 0 && cfg->learn.candidates == 2 && live->candidates == 2,
          "/set candidates 2: %d and %d", cfg->learn.candidates, live->candidates);
    CHECK(type(c, "/set algo baseline") == 0 && cfg->learn.algo == ALGO_BASELINE && live->algo == ALGO_BASELINE,
          "/set algo baseline");
    CHECK(type(c, "/set w_human -2") == 0 && cfg->weights.human == -2, "/set w_human -2");
    char *shown = chat_settings(c);
    CHECK(strstr(shown, "lr") && strstr(shown, "0.002") && strstr(shown, "algo") && strstr(shown, "baseline"),
          "/show does not show the new values:\n%s", shown);
    free(shown);
    close_chat(c);
}

static void test_the_command_line_is_held_to_the_ranges_of_set(void) {
    SessionConfig cfg = session_default_config();
    CHECK(settings_check(&cfg) == 0, "the defaults are out of range: %s", err_msg());
    cfg.sampling.top_p = 7;
    CHECK(settings_check(&cfg) == -1 && strstr(err_msg(), "top_p"), "top_p 7 passed: '%s'", err_msg());
    cfg = session_default_config();
    cfg.max_tokens = 0;
    CHECK(settings_check(&cfg) == -1 && strstr(err_msg(), "max_tokens"), "max_tokens 0 passed: '%s'", err_msg());
    int names = 0;
    for (const char *const *n = chat_setting_names(); *n; n++) names++;
    CHECK(names > 20, "only %d settings can be completed", names);
}

/* `rlchat simulate --set` reads the same table: the chat's names and ranges, and a few
   learner details the chat leaves out. */
static void test_settings_set_uses_the_table_of_set(void) {
    SessionConfig cfg = session_default_config();
    CHECK(settings_set(&cfg, "best_of", "2") == 0 && cfg.best_of == 2, "best_of 2: %s", err_msg());
    CHECK(settings_set(&cfg, "lr", "1e-3") == 0 && cfg.learn.lr == 1e-3f, "lr: %s", err_msg());
    CHECK(settings_set(&cfg, "w_informativeness", "0.5") == 0 && cfg.weights.informativeness == 0.5f,
          "w_informativeness: %s", err_msg());
    CHECK(settings_set(&cfg, "replay", "3") == 0 && cfg.learn.replay == 3, "replay: %s", err_msg());
    CHECK(settings_set(&cfg, "imitate_above", "-0.5") == 0 && cfg.learn.imitate_above == -0.5f, "imitate_above");
    SessionConfig before = cfg;
    CHECK(settings_set(&cfg, "best_of_by_policy", "0") == -1 &&
              strstr(err_msg(), "best_of_by_policy wants a whole number between 1 and 9, not '0'"),
          "best_of_by_policy 0: '%s'", err_msg());
    CHECK(settings_set(&cfg, "entropy_floor", "2") == -1, "entropy_floor 2 accepted");
    CHECK(settings_set(&cfg, "nope", "1") == -1 && strstr(err_msg(), "unknown setting 'nope'"), "'%s'", err_msg());
    CHECK(!memcmp(&before, &cfg, sizeof cfg), "a refused setting changed the settings");
    /* The chat's /set, /show and completion leave the learner details out. */
    Chat *c = open_chat();
    CHECK(type(c, "/set replay 3") == -1 && strstr(err_msg(), "unknown setting 'replay'"), "/set replay: '%s'",
          err_msg());
    char *shown = chat_settings(c);
    CHECK(!strstr(shown, "replay") && !strstr(shown, "critic_lr"), "/show shows the learner details:\n%s", shown);
    free(shown);
    for (const char *const *n = chat_setting_names(); *n; n++)
        CHECK(strcmp(*n, "self_imitation") && strcmp(*n, "entropy_floor"), "%s completes in the chat", *n);
    close_chat(c);
}

static void test_bang_forces_reset_and_load_past_unsaved_updates(void) {
    Chat *c = open_chat();
    say_and_rate(c);
    CHECK(type(c, "/reset") == -1 && strstr(err_msg(), "1 unsaved updates would be lost") &&
              strstr(err_msg(), "/reset!"),
          "/reset with an unsaved update: '%s'", err_msg());
    CHECK(session_unsaved(c->session) == 1, "the refused /reset dropped the update");
    CHECK(type(c, "/reset! now") == -1 && strstr(err_msg(), "unexpected 'now'"), "/reset! now: '%s'", err_msg());
    CHECK(type(c, "/load nobody") == -1 && strstr(err_msg(), "/load nobody!"), "/load: '%s'", err_msg());
    CHECK(type(c, "/load nobody!") == -1 && strstr(err_msg(), "no profile named nobody"), "/load nobody!: '%s'",
          err_msg());
    CHECK(type(c, "/reset!") == 0 && session_unsaved(c->session) == 0 && session_ratings(c->session) == 0,
          "/reset! kept %d unsaved updates", session_unsaved(c->session));
    close_chat(c);
}

static void test_save_takes_one_name_and_export_the_whole_path(void) {
    Chat *c = open_chat();
    say_and_rate(c);
    char path[4096];
    CHECK(type(c, "/save a b") == -1 && strstr(err_msg(), "unexpected 'b'"), "/save a b: '%s'", err_msg());
    profile_path(path, sizeof path, "a", ".profile");
    CHECK(access(path, F_OK) != 0, "/save a b saved profile a");
    CHECK(type(c, "/save bad/name") == -1, "/save bad/name saved");
    CHECK(type(c, "/save mine") == 0 && !strcmp(c->profile, "mine"), "/save mine: %s", err_msg());
    profile_path(path, sizeof path, "mine", ".profile");
    CHECK(access(path, F_OK) == 0, "no %s after /save mine", path);
    char line[256];
    snprintf(line, sizeof line, "/export %s/my notes.md   ", dir);
    snprintf(path, sizeof path, "%s/my notes.md", dir);
    CHECK(type(c, line) == 0 && access(path, F_OK) == 0, "'%s' did not write '%s': %s", line, path, err_msg());
    close_chat(c);
}

static void test_models_lists_the_saved_profiles(void) {
    Chat *c = open_chat();
    say_and_rate(c);
    CHECK(type(c, "/save listed") == 0, "/save listed: %s", err_msg());
    int before = c->n_entries;
    CHECK(type(c, "/models") == 0 && c->n_entries == before + 1, "/models printed nothing");
    const char *text = c->entries[c->n_entries - 1].text;
    CHECK(strstr(text, "listed") && strstr(text, "1 ratings") && strstr(text, "(current)"), "/models printed:\n%s",
          text);
    close_chat(c);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/rlchat_commands_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char data[128];
    snprintf(data, sizeof data, "%s/data", dir);
    setenv("XDG_DATA_HOME", data, 1);
    TinySetup ts = {0};
    tiny_setup(&ts, 32);
    snprintf(model_path, sizeof model_path, "%s/tiny.model", dir);
    Buf file = {0};
    ckpt_begin(&file);
    ckpt_put_model(&file, &ts.model, &ts.tok, 0);
    if (ckpt_write(model_path, &file) != 0) return 1;
    tiny_teardown(&ts);

    RUN(test_a_line_names_one_command_and_its_arguments);
    RUN(test_an_unknown_command_is_named_in_the_error);
    RUN(test_every_command_is_in_the_help_and_completes);
    RUN(test_commands_that_take_nothing_refuse_words_after_them);
    RUN(test_quit_and_help_only_raise_their_flags);
    RUN(test_ratings_take_only_their_arguments);
    RUN(test_set_changes_a_setting_within_its_range_only);
    RUN(test_the_command_line_is_held_to_the_ranges_of_set);
    RUN(test_settings_set_uses_the_table_of_set);
    RUN(test_bang_forces_reset_and_load_past_unsaved_updates);
    RUN(test_save_takes_one_name_and_export_the_whole_path);
    RUN(test_models_lists_the_saved_profiles);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
