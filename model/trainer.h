/* trainer: pretraining on a token stream with truncated BPTT. The stream is cut into B
   contiguous shards; batch k takes T+1 tokens from each shard at offset k*T, and the LSTM
   state is carried from one batch to the next, so every token is seen with its history.
   The learning rate warms up linearly, then follows a cosine down to lr_min_frac * lr.

   Data parallel (model/distributed.h): with N ranks, rank r trains streams
   [r*B/N, (r+1)*B/N) of the same B; the ranks sum their token-loss sums, counts and
   gradients, so every rank takes the step one process would take on the whole batch. */
#ifndef RLCHAT_TRAINER_H
#define RLCHAT_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "adam.h"
#include "checkpoint.h"
#include "lstm.h"

typedef struct {
    int batch;           /* B: parallel streams */
    int seq;             /* T: steps of backpropagation through time */
    float lr;            /* peak learning rate */
    float lr_min_frac;   /* final rate as a fraction of lr */
    int warmup;          /* steps of linear warm-up */
    float clip;          /* global gradient-norm clip */
    float weight_decay;  /* AdamW decay */
    int64_t total_steps; /* length of the schedule (epochs * steps per epoch) */
} TrainConfig;

typedef struct {
    TrainConfig cfg;       /* as given (or as resumed) */
    Model *model;          /* not owned */
    Adam adam;             /* optimizer state */
    Acts acts;             /* forward/backward scratch for (B, T) */
    LstmState state;       /* carried between batches, for this rank's streams */
    const void *tokens;    /* the whole stream (may be memory-mapped), not owned */
    int width;             /* bytes per token in it: 4 (int32) or 2 (uint16) */
    int rank, world;       /* this process and the number of them (1 without MPI) */
    int first, local;      /* this rank's streams: [first, first + local) of B */
    size_t shard_len;      /* tokens per shard */
    int64_t step;          /* optimizer steps taken (skipped ones included) */
    int64_t epoch;         /* completed passes over the stream */
    size_t pos;            /* offset within each shard of the next batch */
    int32_t *inputs;       /* (local, T) */
    int32_t *targets;      /* (local, T) */
    float last_norm;       /* gradient norm of the last step */
} Trainer;

/* -1 with err_msg() when the stream is too short for one batch. */
int trainer_build(Trainer *tr, Model *m, const TrainConfig *cfg, const int32_t *tokens, size_t n);
/* The same for rank `rank` of `world` on a stream of n tokens of width bytes (4: int32,
   2: uint16); -1 also when B < world. Every rank's model must hold the same weights. */
int trainer_build_shard(Trainer *tr, Model *m, const TrainConfig *cfg, const void *tokens, int width,
                        size_t n, int rank, int world);
void trainer_free(Trainer *tr);
int64_t trainer_steps_per_epoch(const Trainer *tr);
float trainer_lr(const Trainer *tr);
/* One step of forward, backward and Adam on the next batch; returns the batch's mean loss
   (the step is skipped, and counted in adam.skipped, when it is not finite). With several
   ranks it is collective, and the loss and the skip are the whole batch's, on every rank. */
float trainer_step(Trainer *tr);

/* Saves/restores everything an exact resume needs: optimizer, position, the carried state
   of all B streams. With several ranks, put is collective (the states are gathered to rank
   0, and only rank 0's b is written; b may be NULL elsewhere) and get takes each rank's own
   streams from the same file, so a run resumes on any number of ranks. */
void ckpt_put_trainer(Buf *b, const Trainer *tr);
int ckpt_get_trainer(const CkptFile *f, Trainer *tr);

/* Total cross-entropy in nats of the model over a stream, evaluated as B shards of T-step
   chunks with carried state; *count gets the number of predicted tokens. */
double evaluate_stream(const Model *m, const int32_t *tokens, size_t n, int B, int T, size_t *count);
/* The same over shards [first, first + nb) of the B only (a rank's share of a validation). */
double evaluate_shard(const Model *m, const int32_t *tokens, size_t n, int B, int T, int first, int nb,
                      size_t *count);
/* Bits per byte of a text of `bytes` bytes on which a model's cross-entropy totals nats:
   every byte of the file counts, newlines too, so models with different tokenizers compare. */
double nats_to_bits_per_byte(double nats, size_t bytes);

#endif
