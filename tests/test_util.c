/* test_util: the small shared helpers of model/util.h that the other tests do not reach
   on their own. */
#include <string.h>

#include "model/util.h"
#include "tests/check.h"

/* The reference values of FNV-1a 32 (Fowler, Noll and Vo's test suite): the toxicity
   classifier's buckets depend on every bit. */
static void test_fnv1a_matches_the_published_vectors(void) {
    static const struct { const char *s; uint32_t h; } cases[] = {
        {"", 0x811c9dc5u}, {"a", 0xe40c292cu}, {"foobar", 0xbf9cf968u}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t h = fnv1a(FNV1A_SEED, cases[i].s, strlen(cases[i].s));
        CHECK(h == cases[i].h, "FNV-1a of '%s' is %08x, not %08x", cases[i].s, h, cases[i].h);
    }
    /* Continuing from a hash is hashing the bytes joined. */
    CHECK(fnv1a(fnv1a(FNV1A_SEED, "foo", 3), "bar", 3) == 0xbf9cf968u, "a hash in two parts differs");
}

int main(void) {
    RUN(test_fnv1a_matches_the_published_vectors);
    return check_summary();
}
