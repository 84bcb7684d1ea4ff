/* test_conversation: how a chat ends (chat_end, app/conversation.h), the one rule both front
   ends follow: unsaved updates are saved with --autosave, else counted as lost; a failed
   autosave makes the exit status 1. Runs on the tiny untrained model; profiles go to a
   temporary XDG_DATA_HOME, and stderr to a file the tests read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/conversation.h"
#include "model/checkpoint.h"
#include "tests/check.h"
#include "tests/tiny_model.h"

static char dir[64], model_path[128], err_path[128];

/* A Chat on a fresh session with one unsaved update when rated (0 or 1 ratings). */
static Chat *open_chat(int ratings) {
    SessionConfig cfg = session_default_config();
    cfg.max_tokens = 6;
    Session *s = session_new(model_path, NULL, &cfg, 1);
    CHECK(s != NULL, "session_new: %s", err_msg());
    if (!s) exit(check_summary());
    Chat *c = xmalloc(sizeof *c);
    chat_init(c, s, model_path, 0);
    for (int i = 0; i < ratings; i++) {
        chat_say(c, "hi", 2);
        CHECK(chat_rate(c, 1.0f, "good", "+1") == 0, "chat_rate: %s", err_msg());
    }
    return c;
}

static void close_chat(Chat *c) {
    Session *s = c->session;
    chat_free(c);
    free(c);
    session_free(s);
}

/* chat_end(c, status) with stderr caught; *said gets what it printed (caller frees). */
static int end_chat(Chat *c, int status, char **said) {
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    if (!freopen(err_path, "w", stderr)) return -99;
    int rc = chat_end(c, status);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    size_t len;
    *said = read_file(err_path, &len);
    if (!*said) *said = xstrdup("");
    return rc;
}

static int profile_saved(const char *name) {
    char path[4096];
    return profile_path(path, sizeof path, name, ".profile") == 0 && access(path, F_OK) == 0;
}

static void test_an_end_with_nothing_unsaved_says_nothing(void) {
    Chat *c = open_chat(0);
    c->autosave = 1;
    char *said;
    int rc = end_chat(c, 143, &said);
    CHECK(rc == 143 && !*said, "exit %d, said '%s'", rc, said);
    CHECK(c->plain, "notes after the end do not go to stderr");
    free(said);
    close_chat(c);
}

static void test_autosave_saves_and_keeps_the_status(void) {
    Chat *c = open_chat(1);
    c->autosave = 1;
    snprintf(c->profile, sizeof c->profile, "auto");
    char *said;
    int rc = end_chat(c, 130, &said);
    CHECK(rc == 130, "exit %d after a good autosave, not the 130 given", rc);
    CHECK(profile_saved("auto") && strstr(said, "saved profile auto"), "not saved; said '%s'", said);
    free(said);
    close_chat(c);
}

static void test_without_autosave_the_lost_updates_are_counted(void) {
    Chat *c = open_chat(1);
    snprintf(c->profile, sizeof c->profile, "manual");
    char *said;
    int rc = end_chat(c, 0, &said);
    CHECK(rc == 0, "exit %d", rc);
    CHECK(!profile_saved("manual"), "saved without --autosave");
    CHECK(strstr(said, "1 unsaved updates were not saved (use /save, or --autosave)"), "said '%s'", said);
    free(said);
    close_chat(c);
}

static void test_a_failed_autosave_ends_with_status_1(void) {
    Chat *c = open_chat(1);
    c->autosave = 1;
    char file[128], *said;
    snprintf(file, sizeof file, "%s/a-file", dir);
    FILE *f = fopen(file, "w");
    if (f) fclose(f);
    setenv("XDG_DATA_HOME", file, 1); /* no folder can be made under a file */
    int rc = end_chat(c, 143, &said);
    CHECK(rc == 1, "exit %d after a failed autosave, not 1", rc);
    CHECK(strstr(said, "error: autosave failed: "), "said '%s'", said);
    free(said);
    char data[128];
    snprintf(data, sizeof data, "%s/data", dir);
    setenv("XDG_DATA_HOME", data, 1);
    close_chat(c);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/rlchat_conversation_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char data[128];
    snprintf(data, sizeof data, "%s/data", dir);
    setenv("XDG_DATA_HOME", data, 1);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    TinySetup ts = {0};
    tiny_setup(&ts, 32);
    snprintf(model_path, sizeof model_path, "%s/tiny.model", dir);
    Buf file = {0};
    ckpt_begin(&file);
    ckpt_put_model(&file, &ts.model, &ts.tok, 0);
    if (ckpt_write(model_path, &file) != 0) return 1;
    tiny_teardown(&ts);

    RUN(test_an_end_with_nothing_unsaved_says_nothing);
    RUN(test_autosave_saves_and_keeps_the_status);
    RUN(test_without_autosave_the_lost_updates_are_counted);
    RUN(test_a_failed_autosave_ends_with_status_1);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary();
}
