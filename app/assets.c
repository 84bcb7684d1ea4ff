/* assets: see assets.h. */
#include "app/assets.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifndef RLCHAT_SHARE_DIR
#define RLCHAT_SHARE_DIR "/usr/local/share/rlchat"
#endif

const char *assets_dir_default(void) {
    const char *env = getenv("RLCHAT_ASSETS");
    struct stat st;
    if (env && *env) return env;
    if (stat("assets/rlchat.model", &st) == 0 || stat("assets/prompts.txt", &st) == 0) return "assets";
    return RLCHAT_SHARE_DIR;
}

const char *default_model_path(const char *assets_dir) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/rlchat.model", assets_dir ? assets_dir : assets_dir_default());
    return path;
}
