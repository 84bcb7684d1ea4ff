/* worker: one background thread that runs one job at a time, so the screen keeps drawing
   and reading keys while the model generates or learns. The screen's thread starts a job
   and polls for its end; it never waits on the worker except when quitting. */
#ifndef RLCHAT_WORKER_H
#define RLCHAT_WORKER_H

#include <pthread.h>

typedef void (*JobFn)(void *arg);

typedef struct {
    pthread_t thread;       /* the worker */
    pthread_mutex_t mu;     /* guards the fields below */
    pthread_cond_t cv;      /* signals a new job or shutdown */
    JobFn fn;               /* the pending or running job; NULL when idle */
    void *arg;              /* its argument (the job frees what it owns) */
    int running;            /* 1 from start until the job returns */
    int finished;           /* jobs finished so far */
    int shutdown;           /* 1: exit when idle */
    int started;            /* the thread exists */
} Worker;

/* Starts the thread with every signal blocked (signals go to the screen's thread). -1. */
int worker_start(Worker *w);
/* Queues a job; -1 when one is still running. */
int worker_submit(Worker *w, JobFn fn, void *arg);
int worker_busy(Worker *w);
/* Finished jobs so far (the caller compares it to notice an end). */
int worker_finished(Worker *w);
/* Waits for the running job, then ends the thread. */
void worker_stop(Worker *w);

#endif
