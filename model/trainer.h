/* trainer: pretraining on a token stream with truncated BPTT. The stream is cut into B
   contiguous shards; batch k takes T+1 tokens from each shard at offset k*T, and the LSTM
   state is carried from one batch to the next, so every token is seen with its history.
   The learning rate warms up linearly, then follows a cosine down to lr_min_frac * lr. */
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
    LstmState state;       /* carried between batches */
    const int32_t *tokens; /* the stream, not owned */
    size_t shard_len;      /* tokens per shard */
    int64_t step;          /* optimizer steps taken (skipped ones included) */
    int64_t epoch;         /* completed passes over the stream */
    size_t pos;            /* offset within each shard of the next batch */
    int32_t *inputs;       /* (B, T) */
    int32_t *targets;      /* (B, T) */
    float last_norm;       /* gradient norm of the last step */
} Trainer;

/* -1 with err_msg() when the stream is too short for one batch. */
int trainer_build(Trainer *tr, Model *m, const TrainConfig *cfg, const int32_t *tokens, size_t n);
void trainer_free(Trainer *tr);
int64_t trainer_steps_per_epoch(const Trainer *tr);
float trainer_lr(const Trainer *tr);
/* One step of forward, backward and Adam on the next batch; returns the batch's mean loss
   (the step is skipped, and counted in adam.skipped, when it is not finite). */
float trainer_step(Trainer *tr);

/* Saves/restores everything an exact resume needs: optimizer, position, carried state. */
void ckpt_put_trainer(Buf *b, const Trainer *tr);
int ckpt_get_trainer(const CkptFile *f, Trainer *tr);

/* Total cross-entropy in nats of the model over a stream, evaluated as B shards of T-step
   chunks with carried state; *count gets the number of predicted tokens. */
double evaluate_stream(const Model *m, const int32_t *tokens, size_t n, int B, int T, size_t *count);

#endif
