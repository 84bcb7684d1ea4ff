/* chat: `rlchat [chat]`, the conversation. Parses the options, builds the Session and the
   Chat around it, picks the screen or plain mode (plain when stdin or stdout is not a
   terminal, or with --plain), runs it, and leaves with the terminal restored. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/assets.h"
#include "app/cli/cli.h"
#include "app/conversation.h"
#include "app/frontend.h"
#include "app/options.h"
#include "model/util.h"
#include "rl/session.h"

int cli_chat(int argc, char **argv) {
    const char *model_path = NULL, *profile = NULL, *assets = NULL, *seed_arg = NULL;
    int plain = 0, autosave = 0;
    MaybeInt max_tokens = {0};
    MaybeFloat temp = {0}, top_p = {0};
    const Option opts[] = {
        {"--model", OPT_STRING, &model_path, "base model file (default: rlchat.model in the assets folder)"},
        {"--profile", OPT_STRING, &profile, "personalised model to load and save (created if new)"},
        {"--plain", OPT_FLAG, &plain, "line-by-line mode for scripts (also when not on a terminal)"},
        {"--seed", OPT_STRING, &seed_arg, "random seed, for reproducible replies (default: the clock)"},
        {"--autosave", OPT_FLAG, &autosave, "save the profile on quit without asking"},
        {"--assets", OPT_STRING, &assets,
         "folder of the safety lists and the default model (default: $RLCHAT_ASSETS, ./assets, the installed one)"},
        {"--temp", OPT_MAYBE_FLOAT, &temp, "sampling temperature (0: greedy)"},
        {"--top-p", OPT_MAYBE_FLOAT, &top_p, "nucleus sampling mass, 0..1"},
        {"--max-tokens", OPT_MAYBE_INT, &max_tokens, "longest reply in tokens"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat [chat] [--model FILE] [--profile NAME] [--plain] [--seed N] [--autosave] "
                        "[--assets DIR] [--temp T] [--top-p P] [--max-tokens N]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;

    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (seed_arg) {
        char *end;
        seed = strtoull(seed_arg, &end, 10);
        if (*end || end == seed_arg || seed_arg[0] == '-') { /* strtoull would take -1 as 2^64 - 1 */
            fprintf(stderr, "rlchat: --seed wants a whole number, not '%s'\nusage: %s\n", seed_arg, usage);
            return 2;
        }
    }
    SessionConfig cfg = session_default_config();
    if (temp.given) cfg.sampling.temperature = temp.value;
    if (top_p.given) cfg.sampling.top_p = top_p.value;
    if (max_tokens.given) cfg.max_tokens = max_tokens.value;
    if (settings_check(&cfg) != 0) {
        fprintf(stderr, "rlchat: %s\nusage: %s\n", err_msg(), usage);
        return 2;
    }
    setlocale(LC_ALL, "");
    if (!assets) assets = assets_dir_default();
    int default_model = !model_path, other_base = 0;
    if (!model_path) model_path = default_model_path(assets); /* --assets moves the model too */
    char base_path[4096];
    if (default_model && profile && profile_name_ok(profile) &&
        profile_find_base(profile, assets, model_path, base_path, sizeof base_path) == 1) {
        model_path = base_path; /* the profile was made on an earlier shipped model */
        other_base = 1;
    }
    Session *s = session_new(model_path, assets, &cfg, seed);
    if (!s) {
        fprintf(stderr, "rlchat: cannot start the chat: %s\n", err_msg());
        if (default_model) assets_explain_missing(model_path);
        return 1;
    }
    int use_plain = plain || !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO);
    Chat c;
    chat_init(&c, s, model_path, use_plain);
    c.autosave = autosave;
    if (other_base) chat_note(&c, 0, "profile %s was made on the base model %s: using it", profile, model_path);
    int status = 0;
    if (profile && chat_use_profile(&c, profile) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        status = profile_name_ok(profile) ? 1 : 2; /* a bad name is a usage error; no profile folder is not */
        goto done;
    }
    if (!use_plain) {
        status = screen_run(&c);
        if (status < 0) { /* no usable terminal: say why, and chat line by line instead */
            fprintf(stderr, "rlchat: %s; using plain mode\n", err_msg());
            c.plain = 1;
            use_plain = 1;
        }
    }
    if (use_plain) status = plain_run(&c);
done:
    chat_free(&c);
    session_free(s);
    return status;
}
