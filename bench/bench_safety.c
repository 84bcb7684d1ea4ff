/* bench_safety: the cost of screening one reply. Prints "safety_check_us X us" (mean per
   reply, list and classifier both on) and "safety_check_list_us X us" (list alone). Replies
   are the lines of ../shared/data/corpus/valid.txt when it is there (real chat of reply
   length), else a built-in set of chat-like lines, so it also runs in a fresh clone. Run
   from the repository root (it loads assets/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/util.h"
#include "rl/safety.h"

static const char *builtin[] = {
    "I love that movie, the soundtrack is amazing and the ending made me cry.",
    "Have you seen the new season yet? I heard it is even better than the first one.",
    "My favourite band is Radiohead, especially their album OK Computer.",
    "I'm not sure, I think it came out in 1999 or maybe 2000.",
    "That sounds like a lot of fun! What else do you like to do on weekends?",
    "Yes, I played basketball in high school but I was never very good at it.",
    "The director also made a few documentaries about climate change.",
    "Haha, that's hilarious. My cat does the same thing every morning.",
};

int main(void) {
    Safety *s = safety_load("assets");
    if (!s) {
        fprintf(stderr, "bench_safety: %s\n", err_msg());
        return 1;
    }
    char *data = read_file("../shared/data/corpus/valid.txt", NULL);
    const char *lines[4096];
    int n = 0;
    if (data) {
        for (char *p = data, *nl; p && *p && n < 4096; p = nl) {
            nl = strchr(p, '\n');
            if (nl) *nl++ = 0;
            if (*p) lines[n++] = p;
        }
    } else {
        for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++) lines[n++] = builtin[i];
    }
    for (int mode = 1; mode >= 0; mode--) {
        safety_set_classifier(s, mode);
        int reps = 0, blocked = 0;
        double t0 = now_seconds(), t;
        do { /* at least 20000 replies and 0.5 s */
            for (int i = 0; i < n; i++) {
                SafetyVerdict v;
                blocked += safety_check(s, lines[i], strlen(lines[i]), &v);
                reps++;
            }
            t = now_seconds() - t0;
        } while (reps < 20000 || t < 0.5);
        printf("%s %.2f us\n", mode ? "safety_check_us" : "safety_check_list_us", 1e6 * t / reps);
        (void)blocked;
    }
    free(data);
    safety_free(s);
    return 0;
}
