/* test_distributed: the single-process side of data-parallel training. Ranks' shares
   cover the batch once; shares of an evaluation add up to the whole; a checkpoint hands
   each rank its own streams' carried state; a uint16 stream trains like an int32 one.
   (Training across real ranks is tests/test_mpi.sh.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/checkpoint.h"
#include "model/distributed.h"
#include "model/tokenizer.h"
#include "model/trainer.h"
#include "tests/check.h"
#include "tests/tiny_model.h"

typedef TinySetup Setup;

static void setup(Setup *s) { tiny_setup(s, 32); }
static void teardown(Setup *s) { tiny_teardown(s); }

static TrainConfig config(int batch) {
    TrainConfig c = {.batch = batch, .seq = 8, .lr = 1e-2f, .lr_min_frac = 0.1f, .warmup = 2, .clip = 1,
                     .total_steps = 100};
    return c;
}

static void test_one_process_is_rank_0_of_1(void) {
    CHECK(dist_rank() == 0 && dist_world() == 1, "rank %d of %d", dist_rank(), dist_world());
}

static void test_ranks_shares_cover_the_batch_once(void) {
    Setup s;
    setup(&s);
    for (int B = 1; B <= 9; B++)
        for (int N = 1; N <= B; N++) {
            int next = 0, ok = 1;
            for (int r = 0; r < N; r++) {
                Trainer tr;
                TrainConfig c = config(B);
                ok &= trainer_build_shard(&tr, &s.model, &c, s.ids, 4, s.n, r, N) == 0;
                ok &= tr.first == next && tr.local >= B / N && tr.local <= (B + N - 1) / N;
                next = tr.first + tr.local;
                trainer_free(&tr);
            }
            CHECK(ok && next == B, "B %d over %d ranks: shares end at %d", B, N, next);
        }
    Trainer tr;
    TrainConfig c = config(2);
    CHECK(trainer_build_shard(&tr, &s.model, &c, s.ids, 4, s.n, 0, 3) != 0 && strstr(err_msg(), "ranks"),
          "a batch of 2 over 3 ranks was accepted");
    teardown(&s);
}

static void test_shares_of_an_evaluation_add_up_to_the_whole(void) {
    Setup s;
    setup(&s);
    size_t whole_count, count, total_count = 0;
    double whole = evaluate_stream(&s.model, s.ids, s.n, 5, 8, &whole_count), total = 0;
    int bounds[4] = {0, 1, 3, 5}; /* three uneven shares of 5 streams */
    for (int r = 0; r < 3; r++) {
        total += evaluate_shard(&s.model, s.ids, s.n, 5, 8, bounds[r], bounds[r + 1] - bounds[r], &count);
        total_count += count;
    }
    CHECK(total_count == whole_count, "counts %zu and %zu", total_count, whole_count);
    CHECK(fabs(total - whole) <= 1e-6 * whole, "nats %.9g and %.9g", total, whole);
    teardown(&s);
}

static void test_a_checkpoint_gives_each_rank_its_streams(void) {
    Setup s;
    setup(&s);
    TrainConfig c = config(5);
    Trainer whole;
    trainer_build(&whole, &s.model, &c, s.ids, s.n);
    for (int i = 0; i < 7; i++) trainer_step(&whole);
    Buf file = {0};
    ckpt_begin(&file);
    ckpt_put_trainer(&file, &whole);
    ckpt_finish(&file);
    CkptFile f;
    CHECK(ckpt_open_memory(&f, "resume", file.data, file.len) == 0, "%s", err_msg());
    int L = s.model.config.num_layers, H = s.model.config.hidden_dim;
    for (int r = 0; r < 3; r++) {
        Trainer part;
        trainer_build_shard(&part, &s.model, &c, s.ids, 4, s.n, r, 3);
        CHECK(ckpt_get_trainer(&f, &part) == 0, "rank %d: %s", r, err_msg());
        int same = part.step == whole.step && part.pos == whole.pos;
        for (int l = 0; l < L; l++) {
            size_t mine = (size_t)l * part.local * H, all = ((size_t)l * 5 + part.first) * H;
            same &= !memcmp(part.state.h + mine, whole.state.h + all, (size_t)part.local * H * sizeof(float));
            same &= !memcmp(part.state.c + mine, whole.state.c + all, (size_t)part.local * H * sizeof(float));
        }
        CHECK(same, "rank %d of 3 (streams %d..%d) did not get its state", r, part.first, part.first + part.local);
        trainer_free(&part);
    }
    ckpt_close(&f);
    buf_free(&file);
    trainer_free(&whole);
    teardown(&s);
}

static void test_uint16_stream_trains_like_int32(void) {
    Setup a, b;
    setup(&a);
    setup(&b);
    uint16_t *narrow = xmalloc(b.n * sizeof(uint16_t));
    for (size_t i = 0; i < b.n; i++) narrow[i] = (uint16_t)b.ids[i];
    TrainConfig c = config(3);
    Trainer ta, tb;
    trainer_build(&ta, &a.model, &c, a.ids, a.n);
    trainer_build_shard(&tb, &b.model, &c, narrow, 2, b.n, 0, 1);
    for (int i = 0; i < 12; i++) trainer_step(&ta), trainer_step(&tb);
    CHECK(!memcmp(a.model.param_block, b.model.param_block, a.model.num_params * sizeof(float)),
          "weights differ between the int32 and the uint16 stream");
    free(narrow);
    trainer_free(&ta);
    trainer_free(&tb);
    teardown(&a);
    teardown(&b);
}

int main(void) {
    RUN(test_one_process_is_rank_0_of_1);
    RUN(test_ranks_shares_cover_the_batch_once);
    RUN(test_shares_of_an_evaluation_add_up_to_the_whole);
    RUN(test_a_checkpoint_gives_each_rank_its_streams);
    RUN(test_uint16_stream_trains_like_int32);
    return check_summary();
}
