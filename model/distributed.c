/* distributed: see distributed.h. MPI counts are ints, so large blocks go in pieces of at
   most CHUNK elements (a 4-billion-float model would otherwise overflow them). */
#include "distributed.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK ((size_t)1 << 28)

int dist_share_begin(int n, int rank, int world) { return (int)((int64_t)n * rank / world); }

#ifdef RLCHAT_MPI

#include <mpi.h>

void dist_init(void) {
    int started;
    MPI_Initialized(&started);
    if (!started) MPI_Init(NULL, NULL);
}

void dist_finalize(void) {
    int started, done;
    MPI_Initialized(&started);
    MPI_Finalized(&done);
    if (started && !done) MPI_Finalize();
}

/* Before dist_init (the chat, eval, tests) a process is rank 0 of 1. */
int dist_rank(void) {
    int started, rank = 0;
    MPI_Initialized(&started);
    if (started) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

int dist_world(void) {
    int started, world = 1;
    MPI_Initialized(&started);
    if (started) MPI_Comm_size(MPI_COMM_WORLD, &world);
    return world;
}

void dist_allreduce_sum(float *data, size_t n) {
    if (dist_world() == 1) return; /* also before dist_init: the chat, eval, tests */
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, data + at, (int)k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
}

void dist_allreduce_sum_f64(double *data, size_t n) {
    if (dist_world() == 1) return;
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, data + at, (int)k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
}

void dist_bcast(void *data, size_t bytes) {
    if (dist_world() == 1) return;
    for (size_t at = 0; at < bytes; at += CHUNK)
        MPI_Bcast((uint8_t *)data + at, (int)(bytes - at < CHUNK ? bytes - at : CHUNK), MPI_BYTE, 0, MPI_COMM_WORLD);
}

void dist_gather(const float *send, float *recv, const int *counts) {
    int world = dist_world(), rank = dist_rank();
    if (world == 1) {
        if (send != recv) memmove(recv, send, (size_t)counts[0] * sizeof(float));
        return;
    }
    int *displs = malloc((size_t)world * sizeof(int));
    if (!displs) dist_abort(1);
    for (int r = 0, at = 0; r < world; at += counts[r], r++) displs[r] = at;
    MPI_Gatherv(send, counts[rank], MPI_FLOAT, recv, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
    free(displs);
}

void dist_barrier(void) {
    if (dist_world() > 1) MPI_Barrier(MPI_COMM_WORLD);
}

void dist_abort(int status) {
    int started;
    MPI_Initialized(&started);
    if (started) MPI_Abort(MPI_COMM_WORLD, status);
    exit(status);
}

#else /* one process: rank 0 of 1 */

void dist_init(void) {}
void dist_finalize(void) {}
int dist_rank(void) { return 0; }
int dist_world(void) { return 1; }
void dist_allreduce_sum(float *data, size_t n) { (void)data, (void)n; }
void dist_allreduce_sum_f64(double *data, size_t n) { (void)data, (void)n; }
void dist_bcast(void *data, size_t bytes) { (void)data, (void)bytes; }

void dist_gather(const float *send, float *recv, const int *counts) {
    if (send != recv) memmove(recv, send, (size_t)counts[0] * sizeof(float));
}

void dist_barrier(void) {}
void dist_abort(int status) { exit(status); }

#endif
