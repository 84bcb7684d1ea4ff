/* test_profile: where profiles live (app/profile.h) and what their feedback logs hold. The
   folder follows XDG_DATA_HOME, then HOME; a log line has the eleven fields profile.h names,
   escaped; lines rated before a profile exists are held, then kept or dropped; /models
   counts ratings minus undos. Every test works in its own temporary folder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/profile.h"
#include "tests/check.h"

static char root[64]; /* the temporary folder; XDG_DATA_HOME is root/data */

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The whole of a file, or "" when it cannot be read (caller frees). */
static char *slurp(const char *path) {
    size_t len;
    char *s = read_file(path, &len);
    return s ? s : xstrdup("");
}

static void touch(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) fputs("x", f), fclose(f);
}

/* Splits one log line (its '\n' removed) at tabs into fields; returns how many. */
static int split(char *line, char **fields, int max) {
    int n = 0;
    line[strcspn(line, "\n")] = 0;
    for (char *p = line; n < max;) {
        fields[n++] = p;
        p = strchr(p, '\t');
        if (!p) break;
        *p++ = 0;
    }
    return n;
}

static void use_data_home(const char *sub) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", root, sub);
    setenv("XDG_DATA_HOME", path, 1);
}

static void test_profile_names_are_plain_file_names(void) {
    char longest[PROFILE_NAME_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[PROFILE_NAME_MAX] = 0;
    const char *good[] = {"work", "a", "Work-2.old_copy", "x.", longest};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) CHECK(profile_name_ok(good[i]), "'%s' refused", good[i]);
    longest[PROFILE_NAME_MAX] = 'a', longest[PROFILE_NAME_MAX + 1] = 0;
    const char *bad[] = {"", ".hidden", "..", "a/b", "../up", "a b", "tab\t", "caf\xC3\xA9", "semi;colon", longest};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(!profile_name_ok(bad[i]), "'%s' accepted", bad[i]);
}

static void test_the_folder_is_under_xdg_data_home_then_home(void) {
    char dir[4096], want[256];
    use_data_home("xdg/deep");
    CHECK(profile_dir(dir, sizeof dir) == 0, "profile_dir: %s", err_msg());
    snprintf(want, sizeof want, "%s/xdg/deep/rlchat", root);
    CHECK(!strcmp(dir, want), "the folder is %s, not %s", dir, want);
    CHECK(is_dir(want), "%s was not created", want);

    char home[128];
    snprintf(home, sizeof home, "%s/home", root);
    setenv("HOME", home, 1);
    setenv("XDG_DATA_HOME", "relative/path", 1); /* the spec says to ignore a relative one */
    CHECK(profile_dir(dir, sizeof dir) == 0, "profile_dir: %s", err_msg());
    snprintf(want, sizeof want, "%s/home/.local/share/rlchat", root);
    CHECK(!strcmp(dir, want), "with a relative XDG_DATA_HOME the folder is %s, not %s", dir, want);
    unsetenv("XDG_DATA_HOME");
    CHECK(profile_dir(dir, sizeof dir) == 0 && !strcmp(dir, want), "without XDG_DATA_HOME the folder is %s", dir);
    CHECK(is_dir(want), "%s was not created", want);

    unsetenv("HOME");
    CHECK(profile_dir(dir, sizeof dir) == -1 && strstr(err_msg(), "HOME"), "no HOME nor XDG_DATA_HOME: '%s'",
          err_msg());
    setenv("HOME", home, 1);
    use_data_home("xdg");
    CHECK(profile_dir(dir, 8) == -1 && strstr(err_msg(), "too long"), "a folder longer than the buffer: '%s'",
          err_msg());
}

static void test_paths_join_the_folder_the_name_and_the_suffix(void) {
    char path[4096], want[256], small[32];
    use_data_home("paths");
    CHECK(profile_path(path, sizeof path, "work", ".profile") == 0, "profile_path: %s", err_msg());
    snprintf(want, sizeof want, "%s/paths/rlchat/work.profile", root);
    CHECK(!strcmp(path, want), "the path is %s, not %s", path, want);
    CHECK(profile_path(path, sizeof path, "history", "") == 0 && strstr(path, "/rlchat/history") &&
              !strcmp(strstr(path, "/rlchat/history"), "/rlchat/history"),
          "the history's path is %s", path);
    CHECK(profile_path(small, sizeof small, "a-rather-long-profile-name", ".feedback.log") == -1,
          "a path longer than its buffer was cut, not refused");
}

static void test_a_feedback_line_has_eleven_escaped_fields(void) {
    use_data_home("log");
    FeedbackLog log = {0};
    CHECK(feedback_open(&log, "fb") == 0, "feedback_open: %s", err_msg());
    RewardTerms t = {.human = 1, .fluency = -0.5f, .relevance = 0.25f, .informativeness = 0.125f, .safety = 0,
                     .total = 1.0625f};
    time_t before = time(NULL);
    FeedbackLine rated = {.prompt = "tab\there\nand a \\ backslash", .reply = "ok\x1B", .rating = "+1", .terms = &t,
                          .logprob = -3.25f};
    FeedbackLine undo = {.prompt = "p", .reply = "r", .rating = "undo", .terms = NULL, .logprob = NAN};
    CHECK(feedback_append(&log, &rated) == 0 && feedback_append(&log, &undo) == 0, "append: %s", err_msg());
    feedback_close(&log);

    char path[4096];
    profile_path(path, sizeof path, "fb", ".feedback.log");
    char *text = slurp(path), *second = strchr(text, '\n');
    CHECK(second && second[1] && strchr(second + 1, '\n') && !strchr(strchr(second + 1, '\n') + 1, '\n'),
          "the log is not two lines:\n%s", text);
    if (!second) goto out;
    *second++ = 0;
    char *f[16];
    int n = split(text, f, 16);
    CHECK(n == 11, "the first line has %d fields, not 11", n);
    if (n != 11) goto out;
    struct tm tm = {0};
    char *end = strptime(f[0], "%Y-%m-%dT%H:%M:%SZ", &tm);
    time_t when = end && !*end ? timegm(&tm) : 0;
    CHECK(when >= before - 1 && when <= time(NULL) + 1, "the time '%s' is not now in ISO 8601 UTC", f[0]);
    CHECK(!strcmp(f[1], "tab\\there\\nand a \\\\ backslash"), "the prompt is logged as '%s'", f[1]);
    CHECK(!strcmp(f[2], "ok\\x1B"), "the reply is logged as '%s'", f[2]);
    CHECK(!strcmp(f[3], "+1"), "the rating is logged as '%s'", f[3]);
    const char *numbers[] = {"1.0000", "-0.5000", "0.2500", "0.1250", "0.0000", "1.0625", "-3.2500"};
    for (int i = 0; i < 7; i++) CHECK(!strcmp(f[4 + i], numbers[i]), "field %d is '%s', not '%s'", 4 + i, f[4 + i],
                                      numbers[i]);
    n = split(second, f, 16);
    CHECK(n == 11 && !strcmp(f[3], "undo"), "the undo line has %d fields, rating '%s'", n, n > 3 ? f[3] : "");
    for (int i = 4; i < n; i++) CHECK(!strcmp(f[i], "-"), "a missing number is logged as '%s', not '-'", f[i]);
out:
    free(text);
}

static void test_lines_rated_before_a_profile_are_held_until_kept(void) {
    use_data_home("held");
    FeedbackLog log = {0};
    FeedbackLine l = {.prompt = "hi", .reply = "hello", .rating = "-1", .terms = NULL, .logprob = NAN};
    CHECK(feedback_append(&log, &l) == 0 && feedback_append(&log, &l) == 0, "append while closed: %s", err_msg());
    char path[4096];
    profile_path(path, sizeof path, "kept", ".feedback.log");
    CHECK(access(path, F_OK) != 0, "a log was written before any profile was opened");
    CHECK(feedback_open(&log, "kept") == 0, "feedback_open: %s", err_msg());
    char *text = slurp(path);
    CHECK(!*text, "held lines reached the log before they were kept");
    free(text);
    CHECK(feedback_keep_held(&log) == 0, "keep: %s", err_msg());
    CHECK(log.held.len == 0, "%zu bytes still held after keeping", log.held.len);
    feedback_close(&log);
    text = slurp(path);
    int lines = 0;
    for (char *p = text; (p = strstr(p, "\thi\thello\t-1\t")); p++) lines++;
    CHECK(lines == 2, "%d held lines kept, not 2:\n%s", lines, text);
    free(text);
}

static void test_held_lines_dropped_never_reach_a_log(void) {
    use_data_home("dropped");
    FeedbackLog log = {0};
    FeedbackLine l = {.prompt = "hi", .reply = "hello", .rating = "+1", .terms = NULL, .logprob = NAN};
    feedback_append(&log, &l);
    feedback_drop_held(&log);
    CHECK(log.held.len == 0, "%zu bytes held after dropping", log.held.len);
    CHECK(feedback_open(&log, "fresh") == 0 && feedback_keep_held(&log) == 0, "open, keep: %s", err_msg());
    feedback_append(&log, &(FeedbackLine){.prompt = "new", .reply = "r", .rating = "+1", .logprob = NAN});
    feedback_close(&log);
    char path[4096];
    profile_path(path, sizeof path, "fresh", ".feedback.log");
    char *text = slurp(path);
    CHECK(!strstr(text, "\thi\t") && strstr(text, "\tnew\t"), "the log holds:\n%s", text);
    free(text);
}

/* Appends ratings to profile name's log: each char of ratings is '+' (a rating) or 'u'. */
static void log_ratings(const char *name, const char *ratings) {
    FeedbackLog log = {0};
    if (feedback_open(&log, name) != 0) {
        CHECK(0, "feedback_open %s: %s", name, err_msg());
        return;
    }
    for (const char *r = ratings; *r; r++) {
        /* A prompt reading "undo" is no undo: only the rating field counts. */
        FeedbackLine l = {.prompt = "undo", .reply = "undo", .rating = *r == 'u' ? "undo" : "+1", .logprob = NAN};
        feedback_append(&log, &l);
    }
    feedback_close(&log);
}

static void test_listing_counts_ratings_minus_undos_and_skips_what_is_no_profile(void) {
    use_data_home("list");
    char dir[4096];
    CHECK(profile_dir(dir, sizeof dir) == 0, "profile_dir: %s", err_msg());
    touch(dir, "zeta.profile");
    touch(dir, "alpha.profile");
    touch(dir, "none.profile");
    touch(dir, ".hidden.profile");
    touch(dir, "bad name.profile");
    touch(dir, "notes.txt");
    touch(dir, ".profile");
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/folder.profile", dir);
    mkdir(sub, 0700);
    log_ratings("alpha", "+++u");   /* 3 ratings, one undone */
    log_ratings("zeta", "+uu");     /* more undos than ratings counts as none */
    log_ratings("orphan", "++");    /* a log without a profile is not listed */
    ProfileInfo *p;
    int n;
    CHECK(profile_list(&p, &n) == 0, "profile_list: %s", err_msg());
    CHECK(n == 3, "%d profiles listed, not 3 (alpha, none, zeta)", n);
    const char *names[] = {"alpha", "none", "zeta"};
    const int ratings[] = {2, 0, 0};
    for (int i = 0; i < n && i < 3; i++) {
        CHECK(!strcmp(p[i].name, names[i]), "profile %d is %s, not %s", i, p[i].name, names[i]);
        CHECK(p[i].ratings == ratings[i], "%s has %d ratings, not %d", p[i].name, p[i].ratings, ratings[i]);
        CHECK(p[i].mtime > 0 && p[i].mtime <= time(NULL) + 1, "%s was saved at %lld", p[i].name,
              (long long)p[i].mtime);
    }
    free(p);
    use_data_home("empty");
    CHECK(profile_list(&p, &n) == 0 && n == 0 && !p, "an empty folder lists %d profiles", n);
}

static void test_without_a_profile_the_base_model_is_the_one_given(void) {
    use_data_home("base");
    char out[4096];
    CHECK(profile_find_base("nobody", root, "/some/model.model", out, sizeof out) == 0, "another base found");
    CHECK(!strcmp(out, "/some/model.model"), "the base is %s", out);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/rlchat_profile_XXXXXX");
    if (!mkdtemp(root)) return 1;
    RUN(test_profile_names_are_plain_file_names);
    RUN(test_the_folder_is_under_xdg_data_home_then_home);
    RUN(test_paths_join_the_folder_the_name_and_the_suffix);
    RUN(test_a_feedback_line_has_eleven_escaped_fields);
    RUN(test_lines_rated_before_a_profile_are_held_until_kept);
    RUN(test_held_lines_dropped_never_reach_a_log);
    RUN(test_listing_counts_ratings_minus_undos_and_skips_what_is_no_profile);
    RUN(test_without_a_profile_the_base_model_is_the_one_given);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return check_summary();
}
