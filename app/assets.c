/* assets: see assets.h. */
#include "app/assets.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RLCHAT_SHARE_DIR
#define RLCHAT_SHARE_DIR "/usr/local/share/rlchat"
#endif

static int holds_assets(const char *dir) {
    char path[PATH_MAX + 32];
    struct stat st;
    snprintf(path, sizeof path, "%s/rlchat.model", dir);
    if (stat(path, &st) == 0) return 1;
    snprintf(path, sizeof path, "%s/prompts.txt", dir);
    return stat(path, &st) == 0;
}

/* The assets folder beside the running binary: ./path/to/rlchat run from elsewhere in a
   source checkout finds the checkout's assets. */
static const char *assets_beside_binary(void) {
    static char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 8);
    if (n <= 0) return NULL;
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (!slash) return NULL;
    strcpy(slash, "/assets");
    return holds_assets(dir) ? dir : NULL;
}

const char *assets_dir_default(void) {
    const char *env = getenv("RLCHAT_ASSETS"), *beside;
    if (env && *env) return env;
    if (holds_assets("assets")) return "assets";
    if ((beside = assets_beside_binary())) return beside;
    return RLCHAT_SHARE_DIR;
}

const char *default_model_path(const char *assets_dir) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/rlchat.model", assets_dir ? assets_dir : assets_dir_default());
    return path;
}

void assets_explain_missing(const char *model_path) {
    struct stat st;
    if (stat(model_path, &st) == 0) return;
    fprintf(stderr,
            "rlchat: no model at %s. rlchat looks for its assets in --assets DIR, then $RLCHAT_ASSETS, then\n"
            "./assets, then the assets folder beside the rlchat binary, then %s.\n"
            "Run `make install` in the source folder, or give --assets DIR (or RLCHAT_ASSETS=DIR) for the\n"
            "folder that holds rlchat.model, or --model FILE.\n",
            model_path, RLCHAT_SHARE_DIR);
}
