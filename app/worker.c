/* worker: see worker.h. */
#include "app/worker.h"

#include <signal.h>
#include <string.h>

#include "model/util.h"

static void *worker_main(void *p) {
    Worker *w = p;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->fn && !w->shutdown) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->fn) break; /* shutdown and idle */
        JobFn fn = w->fn;
        void *arg = w->arg;
        pthread_mutex_unlock(&w->mu);
        fn(arg);
        pthread_mutex_lock(&w->mu);
        w->fn = NULL;
        w->running = 0;
        w->finished++;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int worker_start(Worker *w) {
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        err_set("cannot start the worker thread");
        return -1;
    }
    w->started = 1;
    return 0;
}

int worker_submit(Worker *w, JobFn fn, void *arg) {
    pthread_mutex_lock(&w->mu);
    int busy = w->running;
    if (!busy) {
        w->fn = fn, w->arg = arg, w->running = 1;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return busy ? -1 : 0;
}

int worker_busy(Worker *w) {
    pthread_mutex_lock(&w->mu);
    int busy = w->running;
    pthread_mutex_unlock(&w->mu);
    return busy;
}

int worker_finished(Worker *w) {
    pthread_mutex_lock(&w->mu);
    int n = w->finished;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void worker_stop(Worker *w) {
    if (!w->started) return;
    pthread_mutex_lock(&w->mu);
    w->shutdown = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    w->started = 0;
}
