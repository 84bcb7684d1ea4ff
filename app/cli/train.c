/* train: `rlchat train`, pretraining from a corpus file with progress, periodic
   checkpoints (OUT.ckpt, with optimizer and position), exact --resume, and a final
   validation in bits per byte.

   Under `mpirun -np N` (a `make MPI=1` build) the N ranks train one model: rank 0 builds
   the tokenizer and the initial weights (or reads the checkpoint) and broadcasts them,
   each rank trains its share of the batch's streams (model/trainer.h), and only rank 0
   prints and writes files. Every decision that ends or interrupts the loop is taken by
   all ranks together; a rank that fails aborts the whole job (the last checkpoint stays
   intact and --resume continues on any number of ranks). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/options.h"
#include "model/checkpoint.h"
#include "model/corpus.h"
#include "model/distributed.h"
#include "model/tokenizer.h"
#include "model/tokfile.h"
#include "model/trainer.h"
#include "model/util.h"

static volatile sig_atomic_t interrupted = 0;
static void on_interrupt(int sig) { interrupted = sig; }

typedef struct {
    const char *corpus, *valid, *out, *tokens, *log_losses;
    int vocab, batch, seq, epochs, seed, resume, fp16, steps, warmup, tied;
    MaybeInt embed, hidden, layers; /* left out: the defaults for a new model, the checkpoint's on --resume */
    float lr, lr_min, time_limit, checkpoint_every, weight_decay, clip;
} TrainArgs;

#define DEFAULT_EMBED 256
#define DEFAULT_HIDDEN 512
#define DEFAULT_LAYERS 2

static int given_or(MaybeInt option, int fallback) { return option.given ? option.value : fallback; }

/* The shape options given, against the model's limits (model_num_params'), before any work:
   a bad one was found only once the tokenizer had been trained, minutes on a large corpus.
   0, or 2 (a usage error) with the message printed. --tied is checked for a new model only:
   on --resume the checkpoint has the shape (check_resume_shape). */
static int check_shape(const TrainArgs *a) {
    const MaybeInt *widths[] = {&a->embed, &a->hidden};
    const char *names[] = {"--embed", "--hidden"};
    for (int i = 0; i < 2; i++)
        if (widths[i]->given && (widths[i]->value < 1 || widths[i]->value > MAX_WIDTH)) {
            fprintf(stderr, "rlchat: %s must be 1 to %d, not %d\n", names[i], MAX_WIDTH, widths[i]->value);
            return 2;
        }
    if (a->layers.given && (a->layers.value < 1 || a->layers.value > MAX_LAYERS)) {
        fprintf(stderr, "rlchat: --layers must be 1 to %d, not %d\n", MAX_LAYERS, a->layers.value);
        return 2;
    }
    int embed = given_or(a->embed, DEFAULT_EMBED), hidden = given_or(a->hidden, DEFAULT_HIDDEN);
    if (a->tied && !a->resume && embed != hidden) {
        fprintf(stderr, "rlchat: --tied needs --embed = --hidden (not %d and %d)\n", embed, hidden);
        return 2;
    }
    return 0;
}

/* --resume goes on with the checkpoint's model (c): a shape option given that differs from
   it is refused, naming both shapes, rather than ignored. 0, or 2 with the message printed. */
static int check_resume_shape(const TrainArgs *a, const Config *c, const char *ckpt_path) {
    Config asked = {.embed_dim = given_or(a->embed, c->embed_dim), .hidden_dim = given_or(a->hidden, c->hidden_dim),
                    .num_layers = given_or(a->layers, c->num_layers), .tied = a->tied || c->tied};
    if (asked.embed_dim == c->embed_dim && asked.hidden_dim == c->hidden_dim && asked.num_layers == c->num_layers &&
        asked.tied == c->tied)
        return 0;
    fprintf(stderr, "rlchat: cannot resume: %s holds a model of --embed %d --hidden %d --layers %d%s, not the "
                    "--embed %d --hidden %d --layers %d%s asked for (leave the shape options out to resume it)\n",
            ckpt_path, c->embed_dim, c->hidden_dim, c->num_layers, c->tied ? " --tied" : "", asked.embed_dim,
            asked.hidden_dim, asked.num_layers, asked.tied ? " --tied" : "");
    return 2;
}

/* Writes OUT.ckpt: the model in f32, the optimizer and the training position. Collective
   with several ranks (the carried state is gathered); only rank 0 writes. */
static int save_checkpoint(const char *path, const Trainer *tr, const Tokenizer *tok) {
    if (tr->rank != 0) {
        ckpt_put_trainer(NULL, tr);
        return 0;
    }
    Buf b = {0};
    ckpt_begin(&b);
    ckpt_put_model(&b, tr->model, tok, 0);
    ckpt_put_trainer(&b, tr);
    return ckpt_write(path, &b);
}

static int save_model(const char *path, const Model *m, const Tokenizer *tok, int fp16) {
    Buf b = {0};
    ckpt_begin(&b);
    ckpt_put_model(&b, m, tok, fp16);
    return ckpt_write(path, &b);
}

static void progress(const Trainer *tr, float loss, double tok_per_s, double started, int tty) {
    int64_t total = tr->cfg.total_steps;
    double frac = total ? (double)tr->step / total : 0, eta = tok_per_s > 0 ?
        (double)(total - tr->step) * tr->cfg.batch * tr->cfg.seq / tok_per_s : 0;
    if (tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %5.1f%% step %lld loss %.3f %.0f tok/s ETA %02d:%02d ", bar, 100 * frac,
                (long long)tr->step, loss, tok_per_s, (int)(eta / 3600), (int)(eta / 60) % 60);
    } else {
        fprintf(stderr, "step %lld/%lld epoch %lld loss %.4f lr %.2e norm %.2f %.0f tok/s elapsed %.0fs ETA %.0fs skipped %lld\n",
                (long long)tr->step, (long long)total, (long long)tr->epoch, loss, trainer_lr(tr),
                tr->last_norm, tok_per_s, now_seconds() - started, eta, (long long)tr->adam.skipped);
    }
}

/* Every rank gets rank 0's model and tokenizer, and its checkpoint when resuming: rank 0
   broadcasts a checkpoint image, which the others read as if from disk. */
static int share_start(int rank, Model *m, Tokenizer *tok, CkptFile *resume, int have_resume) {
    Buf img = {0};
    uint64_t len = 0;
    if (rank == 0 && have_resume) {
        len = resume->len;
    } else if (rank == 0) {
        ckpt_begin(&img);
        ckpt_put_model(&img, m, tok, 0);
        ckpt_finish(&img);
        len = img.len;
    }
    dist_bcast(&len, sizeof len);
    uint8_t *data = rank != 0 ? xmalloc(len) : have_resume ? resume->data : img.data;
    dist_bcast(data, len);
    buf_free(&img);
    if (rank == 0) return 0;
    CkptFile f;
    int rc = ckpt_open_memory(&f, "rank 0's model", data, len);
    free(data);
    if (rc == 0 && ckpt_get_model(&f, m, tok) != 0) rc = -1;
    if (rc == 0 && have_resume) *resume = f;
    else ckpt_close(&f); /* harmless after a failed open, which leaves f empty */
    return rc;
}

int cli_train(int argc, char **argv) {
    TrainArgs a = {.vocab = 4096, .batch = 32, .seq = 64, .epochs = 1, .seed = 1, .warmup = 200, .lr = 2e-3f,
                   .lr_min = 0.05f, .checkpoint_every = 5, .clip = 1.0f};
    const Option opts[] = {
        {"--corpus", OPT_STRING, &a.corpus, "training corpus (this or --tokens is required)"},
        {"--tokens", OPT_STRING, &a.tokens, "token file from rlchat tokenize, memory-mapped (corpora larger than memory)"},
        {"--valid", OPT_STRING, &a.valid, "validation corpus: loss and bits per byte at the end"},
        {"--out", OPT_STRING, &a.out, "model file to write (required); checkpoints go to OUT.ckpt"},
        {"--vocab", OPT_INT, &a.vocab, "BPE vocabulary size (4096; with --tokens, the file's)"},
        {"--embed", OPT_MAYBE_INT, &a.embed, "embedding width E (256)"},
        {"--hidden", OPT_MAYBE_INT, &a.hidden, "LSTM width H (512)"},
        {"--layers", OPT_MAYBE_INT, &a.layers, "LSTM layers L (2)"},
        {"--tied", OPT_FLAG, &a.tied, "tie the output layer to the embedding (needs --embed = --hidden)"},
        {"--batch", OPT_INT, &a.batch, "parallel streams B (32), over all MPI ranks together"},
        {"--seq", OPT_INT, &a.seq, "backpropagation-through-time steps T (64)"},
        {"--lr", OPT_FLOAT, &a.lr, "peak learning rate (2e-3), warm-up then cosine decay"},
        {"--lr-min", OPT_FLOAT, &a.lr_min, "final learning rate as a fraction of --lr (0.05)"},
        {"--warmup", OPT_INT, &a.warmup, "warm-up steps (200)"},
        {"--weight-decay", OPT_FLOAT, &a.weight_decay, "AdamW weight decay (0)"},
        {"--clip", OPT_FLOAT, &a.clip, "global gradient-norm clip (1.0; 0: off)"},
        {"--epochs", OPT_INT, &a.epochs, "passes over the corpus (1)"},
        {"--steps", OPT_INT, &a.steps, "stop after this many optimizer steps in all (0: no limit)"},
        {"--time-limit", OPT_FLOAT, &a.time_limit, "stop after MINUTES of this run (0: none)"},
        {"--checkpoint-every", OPT_FLOAT, &a.checkpoint_every, "minutes between checkpoints (5)"},
        {"--seed", OPT_INT, &a.seed, "seed of the initial weights (1)"},
        {"--resume", OPT_FLAG, &a.resume, "continue exactly from OUT.ckpt, its model shape too (on any number of ranks)"},
        {"--fp16", OPT_FLAG, &a.fp16, "store the final model's weights as 16-bit floats"},
        {"--log-losses", OPT_STRING, &a.log_losses, "append 'step loss' for every step to FILE"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat train (--corpus FILE | --tokens FILE.tok) [--valid FILE] --out FILE [options]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (!(a.corpus || a.tokens) || (a.corpus && a.tokens) || !a.out) {
        fprintf(stderr, "rlchat: train needs --out and one of --corpus or --tokens\nusage: %s\n", usage);
        return 2;
    }
    if (a.batch < 1 || a.seq < 1 || a.epochs < 1 || a.vocab < TOK_FIRST_MERGE || a.lr <= 0 || a.clip < 0 || a.lr_min < 0 || a.lr_min > 1 ||
        a.warmup < 0) {
        fprintf(stderr, "rlchat: --batch, --seq, --epochs and --lr must be positive, --clip (0: off) and --warmup "
                        "at least 0, --lr-min 0 to 1, --vocab at least %d\n", TOK_FIRST_MERGE);
        return 2;
    }
    if (check_shape(&a) != 0) return 2;
    char ckpt_path[4096];
    snprintf(ckpt_path, sizeof ckpt_path, "%s.ckpt", a.out);
    FILE *valid = a.valid ? open_stream(a.valid) : NULL; /* found missing now, not after the training */
    if (a.valid && !valid) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        return 1;
    }
    if (valid) fclose(valid);
    const char *inputs[] = {a.corpus, a.tokens, a.valid};
    for (int i = 0; i < 3; i++)
        if (inputs[i] && (same_file(a.out, inputs[i]) || same_file(ckpt_path, inputs[i]))) {
            fprintf(stderr, "rlchat: --out %s (or its checkpoint %s) would overwrite %s\n", a.out, ckpt_path,
                    inputs[i]);
            return 2;
        }

    dist_init();
    int rank = dist_rank(), world = dist_world();
    Model model = {0};
    Tokenizer tok = {0};
    Trainer tr = {0};
    TokFile tf = {0};
    int32_t *ids = NULL;
    CkptFile resume_file = {0};
    FILE *loss_log = NULL;
    int status = 1, have_resume = 0, stopped = 0;
    if (a.tokens && tokfile_open(&tf, a.tokens) != 0) { /* every rank maps it */
        fprintf(stderr, "rlchat: %s\n", err_msg());
        goto done;
    }
    if (rank != 0) {
        have_resume = a.resume;
    } else if (a.resume) {
        if (ckpt_open(&resume_file, ckpt_path) != 0 || ckpt_get_model(&resume_file, &model, &tok) != 0) {
            fprintf(stderr, "rlchat: cannot resume: %s\n", err_msg());
            goto done;
        }
        if (check_resume_shape(&a, &model.config, ckpt_path) != 0) {
            status = 2;
            goto done;
        }
        have_resume = 1;
        fprintf(stderr, "resuming from %s\n", ckpt_path);
    } else {
        if (a.tokens) { /* the tokenizer that made the token file */
            if (tokenizer_from_merges(&tok, tf.merges, tf.num_merges) != 0) {
                fprintf(stderr, "rlchat: %s: %s\n", a.tokens, err_msg());
                goto done;
            }
        } else {
            size_t len;
            char *text = read_file(a.corpus, &len);
            if (!text) {
                fprintf(stderr, "rlchat: %s\n", err_msg());
                goto done;
            }
            double t0 = now_seconds();
            int trc = tokenizer_train(&tok, text, len, a.vocab);
            free(text);
            if (trc != 0) {
                fprintf(stderr, "rlchat: tokenizer: %s\n", err_msg());
                goto done;
            }
            fprintf(stderr, "tokenizer: %d tokens learned in %.1f s\n", tok.vocab_size, now_seconds() - t0);
        }
        Config c = {.vocab_size = tok.vocab_size, .embed_dim = given_or(a.embed, DEFAULT_EMBED),
                    .hidden_dim = given_or(a.hidden, DEFAULT_HIDDEN), .num_layers = given_or(a.layers, DEFAULT_LAYERS),
                    .tied = a.tied};
        if (model_build(&model, c) != 0) {
            fprintf(stderr, "rlchat: %s\n", err_msg());
            goto done;
        }
        model_init_weights(&model, (uint64_t)a.seed);
    }
    if (world > 1 && share_start(rank, &model, &tok, &resume_file, have_resume) != 0) {
        fprintf(stderr, "rlchat: rank %d: %s\n", rank, err_msg());
        goto done;
    }
    const void *stream;
    int width = 4;
    size_t n;
    if (a.tokens) {
        if (tf.num_merges != tok.num_merges ||
            memcmp(tf.merges, tok.merges, (size_t)tok.num_merges * 2 * sizeof(int32_t)) != 0) {
            fprintf(stderr, "rlchat: %s was made with another tokenizer than %s's\n", a.tokens,
                    have_resume ? ckpt_path : "the model");
            goto done;
        }
        stream = tf.tokens, width = tf.width, n = tf.count;
    } else {
        ids = corpus_encode_shared(&tok, a.corpus, &n, NULL);
        if (!ids) {
            if (rank == 0) fprintf(stderr, "rlchat: %s\n", err_msg());
            goto done;
        }
        stream = ids;
    }
    TrainConfig tc = {.batch = a.batch, .seq = a.seq, .lr = a.lr, .lr_min_frac = a.lr_min, .warmup = a.warmup,
                      .clip = a.clip, .weight_decay = a.weight_decay};
    if (trainer_build_shard(&tr, &model, &tc, stream, width, n, rank, world) != 0) {
        if (rank == 0) fprintf(stderr, "rlchat: %s: %s\n", a.tokens ? a.tokens : a.corpus, err_msg());
        goto done;
    }
    if (a.tokens && tokfile_check_range(&tf, (size_t)tr.first * tr.shard_len,
                                        (size_t)(tr.first + tr.local) * tr.shard_len, tok.vocab_size) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        goto done;
    }
    tr.cfg.total_steps = (int64_t)a.epochs * trainer_steps_per_epoch(&tr);
    if (have_resume && ckpt_get_trainer(&resume_file, &tr) != 0) {
        fprintf(stderr, "rlchat: cannot resume: %s\n", err_msg());
        goto done;
    }
    if (rank == 0 && a.log_losses && !(loss_log = fopen(a.log_losses, have_resume ? "a" : "w"))) {
        fprintf(stderr, "rlchat: %s: cannot write: %s\n", a.log_losses, strerror(errno));
        goto done;
    }
    if (rank == 0)
        fprintf(stderr, "model: V=%d E=%d H=%d L=%d%s, %zu parameters; corpus %zu tokens; %lld steps of %dx%d%s\n",
                model.config.vocab_size, model.config.embed_dim, model.config.hidden_dim, model.config.num_layers,
                model.config.tied ? " tied" : "", model.num_params, n, (long long)tr.cfg.total_steps, tr.cfg.batch,
                tr.cfg.seq, world > 1 ? " over MPI ranks" : "");
    if (world > 1 && rank == 0) fprintf(stderr, "ranks: %d, %d to %d streams each\n", world, a.batch / world,
                                        (a.batch + world - 1) / world);

    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
    int tty = rank == 0 && isatty(2);
    double started = now_seconds(), last_report = started, last_ckpt = started, window_start = started;
    int64_t window_steps = 0, stop_at = a.steps > 0 ? a.steps : tr.cfg.total_steps;
    if (stop_at > tr.cfg.total_steps) stop_at = tr.cfg.total_steps;
    float loss = 0;
    while (tr.step < stop_at) {
        /* What next: rank 0's clock decides the time limit and the checkpoints, a signal
           to any rank stops all; with one process this is just the local view. */
        double now = now_seconds();
        float want[3] = {rank == 0 && a.time_limit > 0 && now - started > a.time_limit * 60,
                         rank == 0 && now - last_ckpt > a.checkpoint_every * 60, interrupted != 0};
        dist_allreduce_sum(want, 3);
        if (want[2] > 0) {
            stopped = 1;
            break;
        }
        if (want[0] > 0) {
            if (rank == 0) fprintf(stderr, "\ntime limit reached at step %lld\n", (long long)tr.step);
            break;
        }
        if (want[1] > 0) {
            if (save_checkpoint(ckpt_path, &tr, &tok) != 0) fprintf(stderr, "\nrlchat: %s\n", err_msg());
            last_ckpt = now;
        }
        loss = trainer_step(&tr);
        if (loss_log) fprintf(loss_log, "%lld %.9g\n", (long long)tr.step, loss);
        window_steps++;
        now = now_seconds();
        if (rank == 0 && (now - last_report > (tty ? 1.0 : 30.0) || tr.step == stop_at)) {
            double tps = window_steps * (double)tr.cfg.batch * tr.cfg.seq / (now - window_start);
            progress(&tr, loss, tps, started, tty);
            last_report = window_start = now;
            window_steps = 0;
        }
    }
    if (tty) fputc('\n', stderr);
    if (stopped && rank == 0) fprintf(stderr, "interrupted at step %lld; checkpointing\n", (long long)tr.step);
    /* Each save is tried even when the other fails: the model is the smaller, and may
       still fit on a disk the checkpoint filled. */
    int saved_ckpt = save_checkpoint(ckpt_path, &tr, &tok) == 0;
    if (!saved_ckpt) fprintf(stderr, "rlchat: %s\n", err_msg());
    int saved_model = rank != 0 || save_model(a.out, &model, &tok, a.fp16) == 0;
    if (!saved_model) fprintf(stderr, "rlchat: %s\n", err_msg());
    if (!saved_ckpt || !saved_model) goto done;
    if (rank == 0) {
        printf("steps %lld\ntrain_loss %.4f nats/token\nskipped_steps %lld\n", (long long)tr.step, loss,
               (long long)tr.adam.skipped);
        fprintf(stderr, "saved %s (checkpoint %s)\n", a.out, ckpt_path);
        fflush(stdout);
    }
    if (a.valid) eval_report(&model, &tok, a.valid, a.seq);
    status = stopped ? 130 : 0;
done:
    if (loss_log && fclose(loss_log) != 0 && status == 0) {
        fprintf(stderr, "rlchat: %s: write failed\n", a.log_losses);
        status = 1;
    }
    if ((status == 1 || status == 2) && world > 1) dist_abort(status); /* the other ranks would wait for this one */
    ckpt_close(&resume_file);
    trainer_free(&tr);
    free(ids);
    tokfile_close(&tf);
    tokenizer_free(&tok);
    model_free(&model);
    dist_finalize();
    return status;
}
