/* profile: see profile.h. */
#include "app/profile.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/text.h"
#include "model/util.h"
#include "rl/session.h"

#define SUFFIX ".profile"

/* mkdir -p for the folder path (modifies nothing but the disk). */
static int make_dirs(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) goto err;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) goto err;
    return 0;
err:
    err_set("cannot create the folder %s: %s", tmp, strerror(errno));
    return -1;
}

int profile_dir(char *out, size_t n) {
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int w;
    if (xdg && xdg[0] == '/') w = snprintf(out, n, "%s/rlchat", xdg);
    else if (home && *home) w = snprintf(out, n, "%s/.local/share/rlchat", home);
    else {
        err_set("neither XDG_DATA_HOME nor HOME is set: nowhere to keep profiles");
        return -1;
    }
    if (w < 0 || (size_t)w >= n) {
        err_set("the profile folder's path is too long");
        return -1;
    }
    return make_dirs(out);
}

int profile_name_ok(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > PROFILE_NAME_MAX || name[0] == '.') return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int profile_path(char *out, size_t n, const char *name, const char *suffix) {
    char dir[4096];
    if (profile_dir(dir, sizeof dir) != 0) return -1;
    int w = snprintf(out, n, "%s/%s%s", dir, name, suffix);
    if (w < 0 || (size_t)w >= n) {
        err_set("the path of profile %s is too long", name);
        return -1;
    }
    return 0;
}

/* ---- the feedback log ---- */

int feedback_open(FeedbackLog *log, const char *name) {
    log->f = NULL;
    if (profile_path(log->path, sizeof log->path, name, ".feedback.log") != 0) return -1;
    log->f = fopen(log->path, "a");
    if (!log->f) {
        err_set("cannot open the feedback log %s: %s", log->path, strerror(errno));
        return -1;
    }
    return 0;
}

void feedback_close(FeedbackLog *log) {
    if (log->f) fclose(log->f);
    log->f = NULL;
}

static int flush_log(FeedbackLog *log) {
    if (fflush(log->f) == 0 && !ferror(log->f)) return 0;
    err_set("cannot write the feedback log %s: %s", log->path, strerror(errno));
    clearerr(log->f);
    return -1;
}

int feedback_keep_held(FeedbackLog *log) {
    int rc = 0;
    if (log->f && log->held.len) {
        fwrite(log->held.data, 1, log->held.len, log->f);
        rc = flush_log(log);
    }
    feedback_drop_held(log);
    return rc;
}

void feedback_drop_held(FeedbackLog *log) { buf_free(&log->held); }

static void put_field(FILE *f, const char *s) {
    char *e = text_escape_field(s ? s : "", s ? strlen(s) : 0);
    fprintf(f, "\t%s", e);
    free(e);
}

static void put_number(FILE *f, int have, float x) {
    if (have && isfinite(x)) fprintf(f, "\t%.4f", x);
    else fputs("\t-", f);
}

int feedback_append(FeedbackLog *log, const FeedbackLine *l) {
    char *line = NULL, when[32];
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (!f) return 0;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fputs(when, f);
    put_field(f, l->prompt);
    put_field(f, l->reply);
    put_field(f, l->rating);
    const RewardTerms *t = l->terms;
    put_number(f, t != NULL, t ? t->human : 0);
    put_number(f, t != NULL, t ? t->fluency : 0);
    put_number(f, t != NULL, t ? t->relevance : 0);
    put_number(f, t != NULL, t ? t->informativeness : 0);
    put_number(f, t != NULL, t ? t->safety : 0);
    put_number(f, t != NULL, t ? t->total : 0);
    put_number(f, 1, l->logprob);
    fputc('\n', f);
    fclose(f);
    int rc = 0;
    if (log->f) {
        fwrite(line, 1, len, log->f);
        rc = flush_log(log);
    } else {
        buf_put(&log->held, line, len);
    }
    free(line);
    return rc;
}

/* ---- listing ---- */

/* Ratings in a feedback log: lines minus undos (an undo line cancels one rating); an edit
   writes two lines, "edit" and "edited", and counts once. */
static int count_ratings(const char *name) {
    char path[4096];
    if (profile_path(path, sizeof path, name, ".feedback.log") != 0) return 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        /* the rating is the fourth field */
        char *p = line;
        for (int i = 0; i < 3 && p; i++) {
            p = strchr(p, '\t');
            if (p) p++;
        }
        if (!p) continue;
        if (!strncmp(p, "edited\t", 7)) continue; /* the second line of one edit */
        n += strncmp(p, "undo\t", 5) ? 1 : -1;
    }
    free(line);
    fclose(f);
    return n < 0 ? 0 : n;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const ProfileInfo *)a)->name, ((const ProfileInfo *)b)->name);
}

int profile_list(ProfileInfo **out, int *n) {
    char dir[4096];
    *out = NULL, *n = 0;
    if (profile_dir(dir, sizeof dir) != 0) return -1;
    DIR *d = opendir(dir);
    if (!d) {
        err_set("cannot list %s: %s", dir, strerror(errno));
        return -1;
    }
    int cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name), sl = strlen(SUFFIX);
        if (len <= sl || strcmp(de->d_name + len - sl, SUFFIX)) continue;
        char name[PROFILE_NAME_MAX + 1];
        if (len - sl > PROFILE_NAME_MAX) continue;
        memcpy(name, de->d_name, len - sl);
        name[len - sl] = 0;
        if (!profile_name_ok(name)) continue;
        char path[4096 + 512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue; /* a folder named x.profile is no profile */
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = xrealloc(*out, (size_t)cap * sizeof **out);
        }
        ProfileInfo *p = &(*out)[(*n)++];
        snprintf(p->name, sizeof p->name, "%s", name);
        p->mtime = st.st_mtime;
        p->ratings = count_ratings(name);
    }
    closedir(d);
    if (*n) qsort(*out, (size_t)*n, sizeof **out, by_name);
    return 0;
}

/* ---- the base model a profile was made on ---- */

/* 1 when the model file at path has the weights whose checksum is id. */
static int model_has_id(const char *path, uint32_t id) {
    uint32_t got;
    return session_model_id(path, &got) == 0 && got == id;
}

int profile_find_base(const char *name, const char *assets_dir, const char *model_path, char *out, size_t n) {
    char path[4096], made_on[256];
    uint32_t id;
    snprintf(out, n, "%s", model_path);
    if (profile_path(path, sizeof path, name, SUFFIX) != 0 ||
        session_profile_base(path, &id, made_on, sizeof made_on) != 0 || model_has_id(model_path, id))
        return 0; /* no profile, not one (chat_use_profile says so), or made on this base */
    if (made_on[0] && !strchr(made_on, '/') && snprintf(path, sizeof path, "%s/%s", assets_dir, made_on) <
                                                   (int)sizeof path && model_has_id(path, id)) {
        snprintf(out, n, "%s", path);
        return 1;
    }
    DIR *d = opendir(assets_dir);
    int found = 0;
    for (struct dirent *e; d && !found && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len > 6 && !strcmp(e->d_name + len - 6, ".model") &&
            snprintf(path, sizeof path, "%s/%s", assets_dir, e->d_name) < (int)sizeof path && model_has_id(path, id)) {
            snprintf(out, n, "%s", path);
            found = 1;
        }
    }
    if (d) closedir(d);
    return found;
}
