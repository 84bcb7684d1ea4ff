/* cli_train: `rlchat train`, pretraining from a corpus file with progress, periodic
   checkpoints (OUT.ckpt, with optimizer and position), exact --resume, and a final
   validation in bits per byte. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/options.h"
#include "model/checkpoint.h"
#include "model/tokenizer.h"
#include "model/trainer.h"
#include "model/util.h"

static volatile sig_atomic_t interrupted = 0;
static void on_interrupt(int sig) { interrupted = sig; }

typedef struct {
    const char *corpus, *valid, *out;
    int vocab, embed, hidden, layers, batch, seq, epochs, seed, resume, fp16, steps, warmup, tied;
    float lr, time_limit, checkpoint_every, weight_decay, clip;
} TrainArgs;

/* Writes OUT.ckpt: the model in f32, the optimizer and the training position. */
static int save_checkpoint(const char *path, const Trainer *tr, const Tokenizer *tok) {
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

int cli_train(int argc, char **argv) {
    TrainArgs a = {.vocab = 4096, .embed = 256, .hidden = 512, .layers = 2, .batch = 32, .seq = 64,
                   .epochs = 1, .seed = 1, .warmup = 200, .lr = 2e-3f, .checkpoint_every = 5,
                   .clip = 1.0f};
    const Option opts[] = {
        {"--corpus", OPT_STRING, &a.corpus, "training corpus (required)"},
        {"--valid", OPT_STRING, &a.valid, "validation corpus: loss and bits per byte at the end"},
        {"--out", OPT_STRING, &a.out, "model file to write (required); checkpoints go to OUT.ckpt"},
        {"--vocab", OPT_INT, &a.vocab, "BPE vocabulary size (4096)"},
        {"--embed", OPT_INT, &a.embed, "embedding width E (256)"},
        {"--hidden", OPT_INT, &a.hidden, "LSTM width H (512)"},
        {"--layers", OPT_INT, &a.layers, "LSTM layers L (2)"},
        {"--tied", OPT_FLAG, &a.tied, "tie the output layer to the embedding (needs --embed = --hidden)"},
        {"--batch", OPT_INT, &a.batch, "parallel streams B (32)"},
        {"--seq", OPT_INT, &a.seq, "backpropagation-through-time steps T (64)"},
        {"--lr", OPT_FLOAT, &a.lr, "peak learning rate (2e-3), warm-up then cosine decay"},
        {"--warmup", OPT_INT, &a.warmup, "warm-up steps (200)"},
        {"--weight-decay", OPT_FLOAT, &a.weight_decay, "AdamW weight decay (0)"},
        {"--clip", OPT_FLOAT, &a.clip, "global gradient-norm clip (1.0)"},
        {"--epochs", OPT_INT, &a.epochs, "passes over the corpus (1)"},
        {"--steps", OPT_INT, &a.steps, "stop after this many optimizer steps in all (0: no limit)"},
        {"--time-limit", OPT_FLOAT, &a.time_limit, "stop after MINUTES of this run (0: none)"},
        {"--checkpoint-every", OPT_FLOAT, &a.checkpoint_every, "minutes between checkpoints (5)"},
        {"--seed", OPT_INT, &a.seed, "seed of the initial weights (1)"},
        {"--resume", OPT_FLAG, &a.resume, "continue exactly from OUT.ckpt"},
        {"--fp16", OPT_FLAG, &a.fp16, "store the final model's weights as 16-bit floats"},
        {NULL, 0, NULL, NULL}};
    const char *usage = "rlchat train --corpus FILE [--valid FILE] --out FILE [options]";
    int rc = opt_parse(argc, argv, opts, usage, NULL, 0, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (!a.corpus || !a.out) {
        fprintf(stderr, "rlchat: train needs --corpus and --out\nusage: %s\n", usage);
        return 2;
    }
    if (a.batch < 1 || a.seq < 1 || a.epochs < 1 || a.vocab < TOK_FIRST_MERGE || a.lr <= 0) {
        fprintf(stderr, "rlchat: --batch, --seq, --epochs must be positive, --vocab at least %d, --lr > 0\n",
                TOK_FIRST_MERGE);
        return 2;
    }
    char ckpt_path[4096];
    snprintf(ckpt_path, sizeof ckpt_path, "%s.ckpt", a.out);

    Model model = {0};
    Tokenizer tok = {0};
    Trainer tr = {0};
    int32_t *ids = NULL;
    CkptFile resume_file = {0};
    int status = 1, have_resume = 0;
    if (a.resume) {
        if (ckpt_open(&resume_file, ckpt_path) != 0 || ckpt_get_model(&resume_file, &model, &tok) != 0) {
            fprintf(stderr, "rlchat: cannot resume: %s\n", err_msg());
            goto done;
        }
        have_resume = 1;
        fprintf(stderr, "resuming from %s\n", ckpt_path);
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
        Config c = {.vocab_size = tok.vocab_size, .embed_dim = a.embed, .hidden_dim = a.hidden, .num_layers = a.layers,
                    .tied = a.tied};
        if (model_build(&model, c) != 0) {
            fprintf(stderr, "rlchat: %s\n", err_msg());
            goto done;
        }
        model_init_weights(&model, (uint64_t)a.seed);
    }
    size_t n;
    ids = corpus_encode_file(&tok, a.corpus, &n);
    if (!ids) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        goto done;
    }
    TrainConfig tc = {.batch = a.batch, .seq = a.seq, .lr = a.lr, .lr_min_frac = 0.05f, .warmup = a.warmup,
                      .clip = a.clip, .weight_decay = a.weight_decay};
    if (trainer_build(&tr, &model, &tc, ids, n) != 0) {
        fprintf(stderr, "rlchat: %s: %s\n", a.corpus, err_msg());
        goto done;
    }
    tr.cfg.total_steps = (int64_t)a.epochs * trainer_steps_per_epoch(&tr);
    if (have_resume && ckpt_get_trainer(&resume_file, &tr) != 0) {
        fprintf(stderr, "rlchat: cannot resume: %s\n", err_msg());
        goto done;
    }
    fprintf(stderr, "model: V=%d E=%d H=%d L=%d%s, %zu parameters; corpus %zu tokens; %lld steps of %dx%d\n",
            model.config.vocab_size, model.config.embed_dim, model.config.hidden_dim, model.config.num_layers,
            model.config.tied ? " tied" : "", model.num_params, n, (long long)tr.cfg.total_steps, tr.cfg.batch, tr.cfg.seq);

    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
    int tty = isatty(2);
    double started = now_seconds(), last_report = started, last_ckpt = started, window_start = started;
    int64_t window_steps = 0, stop_at = a.steps > 0 ? a.steps : tr.cfg.total_steps;
    if (stop_at > tr.cfg.total_steps) stop_at = tr.cfg.total_steps;
    float loss = 0;
    while (tr.step < stop_at && !interrupted) {
        if (a.time_limit > 0 && now_seconds() - started > a.time_limit * 60) {
            fprintf(stderr, "\ntime limit reached at step %lld\n", (long long)tr.step);
            break;
        }
        loss = trainer_step(&tr);
        window_steps++;
        double now = now_seconds();
        if (now - last_report > (tty ? 1.0 : 30.0) || tr.step == stop_at) {
            double tps = window_steps * (double)tr.cfg.batch * tr.cfg.seq / (now - window_start);
            progress(&tr, loss, tps, started, tty);
            last_report = window_start = now;
            window_steps = 0;
        }
        if (now - last_ckpt > a.checkpoint_every * 60) {
            if (save_checkpoint(ckpt_path, &tr, &tok) != 0) fprintf(stderr, "\nrlchat: %s\n", err_msg());
            last_ckpt = now;
        }
    }
    if (tty) fputc('\n', stderr);
    if (interrupted) fprintf(stderr, "interrupted at step %lld; checkpointing\n", (long long)tr.step);
    if (save_checkpoint(ckpt_path, &tr, &tok) != 0 || save_model(a.out, &model, &tok, a.fp16) != 0) {
        fprintf(stderr, "rlchat: %s\n", err_msg());
        goto done;
    }
    printf("steps %lld\ntrain_loss %.4f nats/token\nskipped_steps %lld\n", (long long)tr.step, loss,
           (long long)tr.adam.skipped);
    fprintf(stderr, "saved %s (checkpoint %s)\n", a.out, ckpt_path);
    if (a.valid) eval_report(&model, &tok, a.valid, a.seq);
    status = interrupted ? 130 : 0;
done:
    ckpt_close(&resume_file);
    trainer_free(&tr);
    free(ids);
    tokenizer_free(&tok);
    model_free(&model);
    return status;
}
