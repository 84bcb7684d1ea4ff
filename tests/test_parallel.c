/* test_parallel: the two-thread helpers fit the cores the process may use. On one core
   (a container, `taskset -c 0`) they run every part on the caller: two threads taking turns
   on one core made a rating take 20 times as long, and the team's spinning waits worse. */
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/parallel.h"
#include "tests/check.h"

static int parts_seen, calls_seen;

static void note_parts(void *ctx, int part, int parts) {
    (void)ctx, (void)part;
    __atomic_add_fetch(&calls_seen, 1, __ATOMIC_SEQ_CST);
    parts_seen = parts;
}

/* In a child held to `ncpu` cores (before anything counted them), the parts and calls one
   parallel_team call makes, as parts * 10 + calls in the exit status. */
static int team_shape_on(int ncpu) {
    pid_t pid = fork();
    if (pid == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int c = 0; c < ncpu; c++) CPU_SET(c, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) _exit(99);
        parallel_team(note_parts, NULL);
        _exit(parts_seen * 10 + calls_seen);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_on_one_core_the_team_runs_every_part_on_the_caller(void) {
    int shape = team_shape_on(1);
    CHECK(shape == 11, "one core: %d parts in %d calls (want 1 part, 1 call)", shape / 10, shape % 10);
}

static void test_on_two_cores_the_team_has_two_parts(void) {
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        printf("skipped: this machine has one core\n");
        return;
    }
    int shape = team_shape_on(2);
    CHECK(shape == 22, "two cores: %d parts in %d calls (want 2 parts, 2 calls)", shape / 10, shape % 10);
}

static void count_range(void *ctx, size_t begin, size_t end) {
    (void)begin, (void)end;
    __atomic_add_fetch((int *)ctx, 1, __ATOMIC_SEQ_CST);
}

static void test_on_one_core_a_split_loop_is_one_call(void) {
    pid_t pid = fork();
    if (pid == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(0, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) _exit(99);
        int calls = 0;
        parallel_for((size_t)1 << 20, count_range, &calls);
        _exit(parallel_cores() * 10 + calls);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int shape = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    CHECK(shape == 11, "one core: %d cores counted, the loop in %d calls (want 1 and 1)", shape / 10, shape % 10);
}

int main(void) {
    RUN(test_on_one_core_the_team_runs_every_part_on_the_caller);
    RUN(test_on_two_cores_the_team_has_two_parts);
    RUN(test_on_one_core_a_split_loop_is_one_call);
    return check_summary();
}
