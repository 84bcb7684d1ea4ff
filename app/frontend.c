/* frontend: what the screen and plain mode share. See frontend.h. */
#include "app/frontend.h"

#include <signal.h>
#include <string.h>

void frontend_catch_signals(void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}
