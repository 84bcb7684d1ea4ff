/* distributed: the few collective operations data-parallel training needs. Built with
   `make MPI=1` (RLCHAT_MPI defined) they run over MPI, and this is the only file that
   names MPI; otherwise they are the trivial one-process versions (rank 0 of 1), so the
   default build has no MPI dependency and the same callers work unchanged.

   Ranks are numbered 0..world-1. Every function below except dist_rank/dist_world/
   dist_abort is collective: all ranks call it, in the same order, with the same sizes.
   Before dist_init (or alone) they act as for one rank, so code shared with the chat and
   eval may call them whether or not the process joined a job. */
#ifndef RLCHAT_DISTRIBUTED_H
#define RLCHAT_DISTRIBUTED_H

#include <stddef.h>

/* Joins the job started by mpirun (a lone process is rank 0 of 1). Safe to call twice. */
void dist_init(void);
/* Leaves the job; call once at a normal exit, after the last collective. */
void dist_finalize(void);
int dist_rank(void);
int dist_world(void);
/* Sums data (n floats, or n doubles) over all ranks, in place: every rank gets the sum. */
void dist_allreduce_sum(float *data, size_t n);
void dist_allreduce_sum_f64(double *data, size_t n);
/* Copies bytes from rank 0's buffer into every other rank's. */
void dist_bcast(void *data, size_t bytes);
/* Rank 0 receives every rank's send (counts[r] floats from rank r) back to back in rank
   order into recv; recv is ignored on the other ranks. */
void dist_gather(const float *send, float *recv, const int *counts);
void dist_barrier(void);
/* Ranks split n items (streams of a batch) into contiguous shares: rank r takes
   [dist_share_begin(n, r, world), dist_share_begin(n, r + 1, world)). Not collective. */
int dist_share_begin(int n, int rank, int world);
/* Ends every rank of the job with status (MPI_Abort); a lone process just exits. */
void dist_abort(int status) __attribute__((noreturn));

#endif
