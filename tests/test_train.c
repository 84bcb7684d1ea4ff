/* test_train: the trainer learns (a tiny corpus is overfit), resumes exactly, and skips
   a step that is not finite. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/checkpoint.h"
#include "model/tokenizer.h"
#include "model/trainer.h"
#include "tests/check.h"
#include "tests/tiny_model.h"

typedef TinySetup Setup;

static void setup(Setup *s) { tiny_setup(s, 64); }
static void teardown(Setup *s) { tiny_teardown(s); }

static TrainConfig config(void) {
    TrainConfig c = {.batch = 2, .seq = 16, .lr = 1e-2f, .lr_min_frac = 0.1f, .warmup = 5, .clip = 1,
                     .total_steps = 600};
    return c;
}

static void test_tiny_corpus_is_overfit(void) {
    Setup s;
    setup(&s);
    TrainConfig c = config();
    Trainer tr;
    CHECK(trainer_build(&tr, &s.model, &c, s.ids, s.n) == 0, "trainer_build: %s", err_msg());
    float first = trainer_step(&tr), last = first;
    while (tr.step < c.total_steps) last = trainer_step(&tr);
    size_t count;
    double nats = evaluate_stream(&s.model, s.ids, s.n, 2, 16, &count);
    CHECK(first > 4.0f, "initial loss %.3f is suspiciously low", first);
    CHECK(nats / count < 1.0, "loss after overfitting %.3f (first batch %.3f, last %.3f)", nats / count, first, last);
    trainer_free(&tr);
    teardown(&s);
}

static void test_resumed_run_equals_uninterrupted_run(void) {
    Setup a, b;
    setup(&a);
    setup(&b);
    TrainConfig c = config();
    Trainer ta, tb;
    trainer_build(&ta, &a.model, &c, a.ids, a.n);
    for (int i = 0; i < 40; i++) trainer_step(&ta);
    /* b: 17 steps, checkpoint, throw everything away, load, 23 more. */
    trainer_build(&tb, &b.model, &c, b.ids, b.n);
    for (int i = 0; i < 17; i++) trainer_step(&tb);
    Buf file = {0};
    ckpt_begin(&file);
    ckpt_put_model(&file, &b.model, &b.tok, 0);
    ckpt_put_trainer(&file, &tb);
    ckpt_finish(&file);
    trainer_free(&tb);
    model_free(&b.model);
    tokenizer_free(&b.tok);
    CkptFile f;
    CHECK(ckpt_open_memory(&f, "resume", file.data, file.len) == 0, "%s", err_msg());
    CHECK(ckpt_get_model(&f, &b.model, &b.tok) == 0, "%s", err_msg());
    trainer_build(&tb, &b.model, &c, b.ids, b.n);
    CHECK(ckpt_get_trainer(&f, &tb) == 0, "%s", err_msg());
    ckpt_close(&f);
    buf_free(&file);
    while (tb.step < 40) trainer_step(&tb);
    CHECK(!memcmp(a.model.param_block, b.model.param_block, a.model.num_params * sizeof(float)),
          "weights after resume differ from an uninterrupted run");
    CHECK(ta.adam.step == tb.adam.step && ta.pos == tb.pos, "positions differ");
    trainer_free(&ta);
    trainer_free(&tb);
    teardown(&a);
    teardown(&b);
}

static void test_non_finite_step_is_skipped_and_counted(void) {
    Setup s;
    setup(&s);
    TrainConfig c = config();
    Trainer tr;
    trainer_build(&tr, &s.model, &c, s.ids, s.n);
    trainer_step(&tr);
    float *before = xmalloc(s.model.num_params * sizeof(float));
    memcpy(before, s.model.param_block, s.model.num_params * sizeof(float));
    s.model.grad_block[3] = NAN;
    int took = adam_step(&tr.adam, s.model.param_block, s.model.grad_block, 1e-2f, 1, 1.0f, NULL);
    CHECK(!took && tr.adam.skipped == 1, "NaN gradient not skipped");
    CHECK(!memcmp(before, s.model.param_block, s.model.num_params * sizeof(float)), "weights changed by a skipped step");
    took = adam_step(&tr.adam, s.model.param_block, s.model.grad_block, 1e-2f, 1, INFINITY, NULL);
    CHECK(!took && tr.adam.skipped == 2, "infinite loss not skipped");
    free(before);
    trainer_free(&tr);
    teardown(&s);
}

static void test_gradient_clipping_bounds_the_update(void) {
    Adam a;
    float p[4] = {0}, g[4] = {300, 400, 0, 0}, norm;
    adam_build(&a, 4);
    adam_step(&a, p, g, 0.1f, 1.0f, 0.0f, &norm);
    CHECK(fabsf(norm - 500) < 1e-3f, "norm %g, expected 500", norm);
    /* Adam's first step moves each touched weight by lr whatever the scale. */
    CHECK(fabsf(p[0] + 0.1f) < 1e-4f && fabsf(p[1] + 0.1f) < 1e-4f && p[2] == 0, "step %g %g %g", p[0], p[1], p[2]);
    adam_free(&a);
}

int main(void) {
    RUN(test_tiny_corpus_is_overfit);
    RUN(test_resumed_run_equals_uninterrupted_run);
    RUN(test_non_finite_step_is_skipped_and_counted);
    RUN(test_gradient_clipping_bounds_the_update);
    return check_summary();
}
