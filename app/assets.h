/* assets: where the shipped files (model, block and allow lists, classifier) are found:
   $RLCHAT_ASSETS, else ./assets when it exists (a source checkout), else the assets folder
   beside the running binary (a checkout's rlchat run from elsewhere), else the installed
   share folder. */
#ifndef RLCHAT_ASSETS_H
#define RLCHAT_ASSETS_H

const char *assets_dir_default(void);  /* a static string; never NULL */
/* ASSETS/rlchat.model, ASSETS the folder given (--assets) or, when NULL, the default one:
   a static string. */
const char *default_model_path(const char *assets_dir);
/* When model_path does not exist, tells on stderr where rlchat looked and what to do. */
void assets_explain_missing(const char *model_path);

#endif
