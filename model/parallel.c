/* parallel: see parallel.h. parallel_for starts a thread per call: tens of microseconds,
   against milliseconds of work on the sizes it is used for. parallel_team keeps one
   helper thread for the short phases of generation. */
#include "parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#define MIN_SPLIT (1 << 16) /* below this, one thread is faster than starting another */

typedef struct {
    RangeFn fn;
    void *ctx;
    size_t begin, end;
} Range;

static void *run_range(void *arg) {
    Range *r = arg;
    r->fn(r->ctx, r->begin, r->end);
    return NULL;
}

/* ---- the cores this process may use ---- */

static pthread_once_t cores_once = PTHREAD_ONCE_INIT;
static int cores = 2;

/* A container or `taskset -c 0` may leave one core: two threads would then take turns on
   it, and the team's spinning waits would spin out their time slices. */
static void count_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cores = CPU_COUNT(&set);
    if (cores < 2) openblas_set_num_threads(1);
}

int parallel_cores(void) {
    pthread_once(&cores_once, count_cores);
    return cores;
}

/* ---- a loop split in two ---- */

void parallel_for(size_t n, RangeFn fn, void *ctx) {
    pthread_t helper;
    size_t half = n / 2 & ~(size_t)15; /* keep chunks aligned to 64 bytes of floats */
    Range second = {fn, ctx, half, n};
    if (n < MIN_SPLIT || parallel_cores() < 2 || pthread_create(&helper, NULL, run_range, &second) != 0) {
        fn(ctx, 0, n);
        return;
    }
    fn(ctx, 0, half);
    pthread_join(helper, NULL);
}

typedef struct {
    float *dst;
    const float *src;
} CopyJob;

static void copy_range(void *ctx, size_t begin, size_t end) {
    CopyJob *j = ctx;
    memcpy(j->dst + begin, j->src + begin, (end - begin) * sizeof(float));
}

void parallel_copy(float *dst, const float *src, size_t n) {
    CopyJob j = {dst, src};
    parallel_for(n, copy_range, &j);
}

/* ---- the team: the caller and one long-lived helper ---- */

/* The helper spins this many polls for the next call before it sleeps: a few hundred
   microseconds, longer than sampling one token takes, so a reply's steps never wait for
   a wake-up, while an idle chat costs no CPU. */
#define TEAM_SPIN 20000

static struct {
    pthread_once_t once;
    pthread_mutex_t turn;         /* one caller at a time */
    pthread_mutex_t mu;           /* with wake: the helper's sleep */
    pthread_cond_t wake;
    int started;                  /* the helper is running (else the caller does both parts) */
    PartFn fn;
    void *ctx;
    atomic_uint calls;            /* incremented for each call; the helper watches it */
    atomic_uint done;             /* the last call the helper finished */
    atomic_uint arrived, phase;   /* team_barrier */
} team = {.once = PTHREAD_ONCE_INIT, .turn = PTHREAD_MUTEX_INITIALIZER,
          .mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* One poll of a wait for the other part: a pause at first, then a yield, because on a busy
   machine the part waited for may be off its core, and spinning on would keep it off. */
#define WAIT_SPINS 4000
static void wait_poll(int *polls) {
    if (++*polls < WAIT_SPINS) cpu_relax();
    else sched_yield();
}

static void *team_helper(void *arg) {
    (void)arg;
    unsigned seen = 0;
    for (;;) {
        unsigned now = atomic_load_explicit(&team.calls, memory_order_acquire);
        for (int i = 0; i < TEAM_SPIN && now == seen; i++) {
            cpu_relax();
            now = atomic_load_explicit(&team.calls, memory_order_acquire);
        }
        if (now == seen) {
            pthread_mutex_lock(&team.mu);
            while ((now = atomic_load(&team.calls)) == seen) pthread_cond_wait(&team.wake, &team.mu);
            pthread_mutex_unlock(&team.mu);
        }
        seen = now;
        team.fn(team.ctx, 1, 2);
        atomic_store_explicit(&team.done, seen, memory_order_release);
    }
    return NULL;
}

static void team_start(void) {
    if (parallel_cores() < 2) return; /* the caller does every part */
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    team.started = pthread_create(&t, &attr, team_helper, NULL) == 0;
    pthread_attr_destroy(&attr);
}

void parallel_team(PartFn fn, void *ctx) {
    pthread_once(&team.once, team_start);
    pthread_mutex_lock(&team.turn);
    if (!team.started) { /* no helper: the caller is the only part (team_barrier is a no-op) */
        fn(ctx, 0, 1);
        pthread_mutex_unlock(&team.turn);
        return;
    }
    team.fn = fn, team.ctx = ctx;
    unsigned call = atomic_fetch_add_explicit(&team.calls, 1, memory_order_release) + 1;
    pthread_mutex_lock(&team.mu); /* wakes the helper if it went to sleep */
    pthread_cond_signal(&team.wake);
    pthread_mutex_unlock(&team.mu);
    fn(ctx, 0, 2);
    for (int polls = 0; atomic_load_explicit(&team.done, memory_order_acquire) != call;) wait_poll(&polls);
    pthread_mutex_unlock(&team.turn);
}

void team_barrier(void) {
    if (!team.started) return;
    unsigned phase = atomic_load_explicit(&team.phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&team.arrived, 1, memory_order_acq_rel) == 1) {
        atomic_store_explicit(&team.arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&team.phase, phase + 1, memory_order_release);
    } else
        for (int polls = 0; atomic_load_explicit(&team.phase, memory_order_acquire) == phase;) wait_poll(&polls);
}

void team_meet(int parts) {
    if (parts > 1) team_barrier();
}

void part_range(int n, int part, int parts, int *begin, int *end) {
    int chunk = ((n + parts - 1) / parts + 3) & ~3;
    *begin = part * chunk < n ? part * chunk : n;
    *end = (part + 1) * chunk < n && part + 1 < parts ? (part + 1) * chunk : n;
}

void parallel_blas_serial(void) { openblas_set_num_threads(1); }
