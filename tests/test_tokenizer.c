/* Tests for model/tokenizer.c: lossless round trips on any bytes, deterministic training,
   compression, merge-list validation, corpus turn wrapping, and a 1 MB encode. */
#include "model/tokenizer.h"
#include "model/util.h"
#include "tests/check.h"

#include <stdlib.h>
#include <string.h>

/* A small built-in text, repeated so that merges have something to learn. */
static const char *sample_text =
    "hello there, how are you doing today?\n"
    "i am doing well, thank you! and you?\n"
    "I love the Jason Bourne franchise. Matt Damon is great.\n"
    "the movie was released in 2016 and it made $415 million.\n"
    "caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9 \xe2\x80\x94 unicode stays inside words\n"
    "    indented    text\twith\ttabs   and  double  spaces\n"
    "\n"
    "what is your favourite book? mine is the hobbit, i read it every year.\n"
    "do you like dogs or cats? i like both, but dogs are more fun to walk.\n";

static char *sample_corpus(size_t *len) {
    Buf b = {0};
    for (int i = 0; i < 20; i++) buf_put(&b, sample_text, strlen(sample_text));
    *len = b.len;
    return (char *)b.data;
}

static int train_sample(Tokenizer *t, int vocab) {
    size_t len;
    char *text = sample_corpus(&len);
    int rc = tokenizer_train(t, text, len, vocab);
    free(text);
    return rc;
}

/* Decodes ids and returns a new buffer (caller frees); *len gets its length. */
static char *decode_all(const Tokenizer *t, const int32_t *ids, size_t n, size_t *len) {
    char *out = NULL;
    size_t out_len = 0, out_cap = 0;
    for (size_t i = 0; i < n; i++) tokenizer_decode_append(t, ids[i], &out, &out_len, &out_cap);
    *len = out_len;
    return out;
}

/* True when text encodes and decodes back to itself with every id in range. */
static int round_trips(const Tokenizer *t, const char *text, size_t len) {
    size_t n, dlen;
    int32_t *ids = tokenizer_encode(t, text, len, &n);
    int ok = n <= len;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= t->vocab_size || tokenizer_is_special(ids[i])) ok = 0;
    char *back = decode_all(t, ids, n, &dlen);
    ok = ok && dlen == len && (len == 0 || memcmp(back, text, len) == 0);
    free(ids);
    free(back);
    return ok;
}

static void test_tokenizer_round_trips_random_bytes(void) {
    Tokenizer t;
    CHECK(train_sample(&t, 400) == 0, "train: %s", err_msg());
    Rng r;
    rng_seed(&r, 7);
    char buf[600];
    int bad = 0;
    for (int k = 0; k < 2000; k++) {
        size_t len = rng_u32(&r) % sizeof buf;
        int mode = k % 4;
        for (size_t i = 0; i < len; i++) {
            uint32_t x = rng_u32(&r);
            if (mode == 0) buf[i] = (char)x;                       /* any byte, NULs too */
            else if (mode == 1) buf[i] = "ab \n\0\x80\xc3\xff"[x % 8]; /* invalid UTF-8 */
            else if (mode == 2) buf[i] = sample_text[x % 60];      /* text-like */
            else buf[i] = (x & 1) ? ' ' : 'a';                     /* long runs */
        }
        if (!round_trips(&t, buf, len)) bad++;
    }
    CHECK(bad == 0, "%d of 2000 random strings did not round trip", bad);
    CHECK(round_trips(&t, "", 0), "the empty string should round trip");
    CHECK(round_trips(&t, sample_text, strlen(sample_text)), "the sample should round trip");
    tokenizer_free(&t);
}

static void test_tokenizer_round_trips_long_runs(void) {
    Tokenizer t;
    CHECK(train_sample(&t, 400) == 0, "train: %s", err_msg());
    static char buf[5000];
    const char fills[] = {'a', ' ', '\n', '7', '!', '\0', (char)0xE9};
    for (size_t f = 0; f < sizeof fills; f++) {
        memset(buf, fills[f], sizeof buf);
        CHECK(round_trips(&t, buf, sizeof buf), "a run of byte 0x%02x should round trip",
              (unsigned char)fills[f]);
    }
    tokenizer_free(&t);
}

static void test_tokenizer_train_is_deterministic(void) {
    Tokenizer a, b;
    CHECK(train_sample(&a, 500) == 0, "train a: %s", err_msg());
    CHECK(train_sample(&b, 500) == 0, "train b: %s", err_msg());
    CHECK(a.num_merges == b.num_merges, "merge counts differ: %d vs %d", a.num_merges,
          b.num_merges);
    CHECK(a.num_merges > 0 && a.vocab_size == TOK_FIRST_MERGE + a.num_merges,
          "vocab %d, merges %d", a.vocab_size, a.num_merges);
    CHECK(a.num_merges == b.num_merges &&
              memcmp(a.merges, b.merges, 2 * (size_t)a.num_merges * sizeof *a.merges) == 0,
          "two trainings on the same text learned different merges");
    tokenizer_free(&a);
    tokenizer_free(&b);
}

/* ---- a slow, obvious reference trainer: recount every pair of every chunk each step ---- */

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int char_kind(unsigned char c) {
    if (is_space(c)) return 0;
    if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    if (c >= '0' && c <= '9') return 2;
    return 3;
}

/* The chunking rules of tokenizer.h, written plainly (the 64-byte cap never triggers on the
   sample text). */
static size_t ref_chunk(const unsigned char *s, size_t n) {
    if (!is_space(s[0])) {
        size_t i = 1;
        while (i < n && char_kind(s[i]) == char_kind(s[0])) i++;
        return i;
    }
    if (s[0] == ' ' && n > 1 && !is_space(s[1])) return 1 + ref_chunk(s + 1, n - 1);
    size_t i = 1;
    while (i < n && is_space(s[i])) i++;
    if (i > 1 && i < n && s[i - 1] == ' ') i--; /* the last space goes to the word */
    return i;
}

#define REF_V 420
static int ref_train(const char *text, size_t len, int32_t *merges) {
    static int32_t ids[1 << 16];
    static int64_t counts[REF_V][REF_V];
    size_t starts[1 << 13], nchunks = 0, n = 0;
    for (size_t pos = 0; pos < len;) {
        size_t k = ref_chunk((const unsigned char *)text + pos, len - pos);
        starts[nchunks++] = n;
        for (size_t i = 0; i < k; i++) ids[n++] = (unsigned char)text[pos + i];
        pos += k;
    }
    starts[nchunks] = n;
    size_t lens[1 << 13];
    for (size_t c = 0; c < nchunks; c++) lens[c] = starts[c + 1] - starts[c];
    int m = 0;
    for (; TOK_FIRST_MERGE + m < REF_V; m++) {
        memset(counts, 0, sizeof counts);
        for (size_t c = 0; c < nchunks; c++)
            for (size_t i = 0; i + 1 < lens[c]; i++)
                counts[ids[starts[c] + i]][ids[starts[c] + i + 1]]++;
        int64_t best = 0;
        int ba = 0, bb = 0;
        for (int a = 0; a < REF_V; a++)
            for (int b = 0; b < REF_V; b++)
                if (counts[a][b] > best) best = counts[a][b], ba = a, bb = b;
        if (best == 0) break;
        merges[2 * m] = ba;
        merges[2 * m + 1] = bb;
        for (size_t c = 0; c < nchunks; c++) {
            int32_t *w = ids + starts[c];
            size_t j = 0;
            for (size_t i = 0; i < lens[c];) {
                if (i + 1 < lens[c] && w[i] == ba && w[i + 1] == bb) {
                    w[j++] = TOK_FIRST_MERGE + m;
                    i += 2;
                } else {
                    w[j++] = w[i++];
                }
            }
            lens[c] = j;
        }
    }
    return m;
}

static void test_tokenizer_train_matches_slow_reference(void) {
    size_t len;
    char *text = sample_corpus(&len);
    static int32_t want[2 * REF_V];
    int n_want = ref_train(text, len, want);
    Tokenizer t;
    CHECK(tokenizer_train(&t, text, len, REF_V) == 0, "train: %s", err_msg());
    CHECK(t.num_merges == n_want, "merges: %d, reference %d", t.num_merges, n_want);
    int first_diff = -1;
    for (int i = 0; i < n_want && i < t.num_merges && first_diff < 0; i++)
        if (t.merges[2 * i] != want[2 * i] || t.merges[2 * i + 1] != want[2 * i + 1])
            first_diff = i;
    CHECK(first_diff < 0, "merge %d: got (%d, %d), reference (%d, %d)", first_diff,
          first_diff < 0 ? 0 : t.merges[2 * first_diff],
          first_diff < 0 ? 0 : t.merges[2 * first_diff + 1],
          first_diff < 0 ? 0 : want[2 * first_diff], first_diff < 0 ? 0 : want[2 * first_diff + 1]);
    free(text);
    tokenizer_free(&t);
}

static void test_tokenizer_train_reaches_requested_vocab(void) {
    Tokenizer t;
    CHECK(train_sample(&t, 300) == 0, "train: %s", err_msg());
    CHECK(t.vocab_size == 300 && t.num_merges == 300 - TOK_FIRST_MERGE, "vocab %d", t.vocab_size);
    /* The first merge is the most frequent pair; every merge joins existing ids. */
    for (int i = 0; i < t.num_merges; i++) {
        int a = t.merges[2 * i], b = t.merges[2 * i + 1];
        CHECK(a >= 0 && b >= 0 && a < TOK_FIRST_MERGE + i && b < TOK_FIRST_MERGE + i,
              "merge %d joins (%d, %d)", i, a, b);
        CHECK(t.len[TOK_FIRST_MERGE + i] == t.len[a] + t.len[b], "merge %d length", i);
    }
    tokenizer_free(&t);
}

static void test_tokenizer_train_rejects_tiny_vocab(void) {
    Tokenizer t;
    CHECK(tokenizer_train(&t, "abc", 3, 100) == -1, "vocab below 259 should fail");
    CHECK(strstr(err_msg(), "vocabulary") != NULL, "message: %s", err_msg());
    tokenizer_free(&t); /* safe on a zeroed tokenizer */
    /* More merges asked than the text can give: stops early, stays consistent. */
    CHECK(tokenizer_train(&t, "abab", 4, 1000) == 0, "train: %s", err_msg());
    CHECK(t.num_merges >= 1 && t.num_merges < 10, "merges learned from abab: %d", t.num_merges);
    CHECK(t.vocab_size == TOK_FIRST_MERGE + t.num_merges, "vocab %d", t.vocab_size);
    tokenizer_free(&t);
}

static void test_tokenizer_merges_compress_typical_text(void) {
    Tokenizer t;
    CHECK(train_sample(&t, 600) == 0, "train: %s", err_msg());
    const char *s = "how are you doing today? i love the movie, thank you.";
    size_t n;
    int32_t *ids = tokenizer_encode(&t, s, strlen(s), &n);
    CHECK(n * 2 < strlen(s), "%zu tokens for %zu bytes: merges should compress", n, strlen(s));
    free(ids);
    /* A frequent word becomes one token, its leading space included. */
    ids = tokenizer_encode(&t, " doing", 6, &n);
    CHECK(n == 1, "\" doing\" should be one token, got %zu", n);
    free(ids);
    tokenizer_free(&t);
}

static void test_tokenizer_chunks_do_not_cross_words(void) {
    Tokenizer t;
    CHECK(train_sample(&t, 600) == 0, "train: %s", err_msg());
    for (int id = TOK_FIRST_MERGE; id < t.vocab_size; id++) {
        /* No token may hold a letter followed by a space, or a space after its first byte
           unless the whole token is white space. */
        int all_space = 1;
        for (int i = 0; i < t.len[id]; i++)
            if (!strchr(" \t\n\r\v\f", t.bytes[id][i])) all_space = 0;
        for (int i = 1; i < t.len[id] && !all_space; i++)
            CHECK(t.bytes[id][i] != ' ', "token %d \"%.*s\" crosses a word", id, t.len[id],
                  (const char *)t.bytes[id]);
    }
    tokenizer_free(&t);
}

static void test_tokenizer_from_merges_rejects_bad_lists(void) {
    Tokenizer t;
    const int32_t future[] = {'a', 'b', 259, 261};         /* 261 does not exist yet */
    const int32_t negative[] = {'a', -1};
    const int32_t self[] = {'a', 259};                      /* merge 0 can't use id 259 */
    const int32_t special[] = {'a', TOK_EOT};
    const int32_t repeat[] = {'a', 'b', 'a', 'b'};
    int32_t doubling[2 * 8];                                /* tokens of 2^k bytes */
    doubling[0] = doubling[1] = 'a';
    for (int i = 1; i < 8; i++) doubling[2 * i] = doubling[2 * i + 1] = TOK_FIRST_MERGE + i - 1;
    CHECK(tokenizer_from_merges(&t, future, 2) == -1, "future id accepted");
    CHECK(strstr(err_msg(), "merge 1") != NULL, "message should name the merge: %s", err_msg());
    CHECK(t.vocab_size == 0 && t.bytes == NULL, "a failed build should leave a zeroed struct");
    CHECK(tokenizer_from_merges(&t, negative, 1) == -1, "negative id accepted");
    CHECK(tokenizer_from_merges(&t, self, 1) == -1, "self reference accepted");
    CHECK(tokenizer_from_merges(&t, special, 1) == -1, "special token accepted");
    CHECK(tokenizer_from_merges(&t, repeat, 2) == -1, "repeated pair accepted");
    CHECK(tokenizer_from_merges(&t, doubling, 8) == -1, "overlong token accepted");
    CHECK(tokenizer_from_merges(&t, NULL, 3) == -1, "NULL list accepted");
    CHECK(tokenizer_from_merges(&t, future, -1) == -1, "negative count accepted");
    CHECK(tokenizer_from_merges(&t, NULL, 0) == 0, "an empty list is a byte tokenizer: %s",
          err_msg());
    CHECK(round_trips(&t, "bytes only\0!", 12), "byte tokenizer round trip");
    tokenizer_free(&t);
    tokenizer_free(&t); /* twice is safe */
}

static void test_tokenizer_from_merges_matches_trained(void) {
    Tokenizer a, b;
    CHECK(train_sample(&a, 500) == 0, "train: %s", err_msg());
    CHECK(tokenizer_from_merges(&b, a.merges, a.num_merges) == 0, "from_merges: %s", err_msg());
    CHECK(b.vocab_size == a.vocab_size, "vocab %d vs %d", b.vocab_size, a.vocab_size);
    size_t len;
    char *text = sample_corpus(&len);
    size_t na, nb;
    int32_t *ia = tokenizer_encode(&a, text, len, &na);
    int32_t *ib = tokenizer_encode(&b, text, len, &nb);
    CHECK(na == nb && memcmp(ia, ib, na * sizeof *ia) == 0, "encodings differ (%zu vs %zu)",
          na, nb);
    for (int id = 0; id < a.vocab_size; id++)
        CHECK(a.len[id] == b.len[id] && memcmp(a.bytes[id], b.bytes[id], (size_t)a.len[id]) == 0,
              "token %d differs", id);
    free(ia);
    free(ib);
    free(text);
    tokenizer_free(&a);
    tokenizer_free(&b);
}

static void test_corpus_encode_wraps_turns(void) {
    Tokenizer t;
    CHECK(tokenizer_from_merges(&t, NULL, 0) == 0, "byte tokenizer: %s", err_msg());
    /* Two dialogues, CRLF endings, several blank lines between them, no final newline. */
    const char *text = "hi\r\nyo\nok\n\n\r\n\nab\nc";
    const int32_t want[] = {TOK_USER, 'h', 'i', TOK_EOT, TOK_BOT, 'y', 'o', TOK_EOT,
                            TOK_USER, 'o', 'k', TOK_EOT, TOK_USER, 'a', 'b', TOK_EOT,
                            TOK_BOT, 'c', TOK_EOT};
    size_t n_want = sizeof want / sizeof *want, n;
    int32_t *ids = corpus_encode(&t, text, strlen(text), &n);
    CHECK(n == n_want, "got %zu ids, want %zu", n, n_want);
    for (size_t i = 0; i < n && i < n_want; i++)
        CHECK(ids[i] == want[i], "id %zu: got %d, want %d", i, ids[i], want[i]);
    free(ids);
    ids = corpus_encode(&t, "\n\n", 2, &n);
    CHECK(ids != NULL && n == 0, "blank text should give no ids, got %zu", n);
    free(ids);
    tokenizer_free(&t);
}

static void test_corpus_encode_file_names_missing_file(void) {
    Tokenizer t;
    CHECK(tokenizer_from_merges(&t, NULL, 0) == 0, "byte tokenizer: %s", err_msg());
    size_t n;
    int32_t *ids = corpus_encode_file(&t, "/nonexistent/corpus.txt", &n, NULL);
    CHECK(ids == NULL, "a missing file should fail");
    CHECK(strstr(err_msg(), "/nonexistent/corpus.txt") != NULL, "message: %s", err_msg());
    tokenizer_free(&t);
}

static void test_special_tokens_decode_to_nothing(void) {
    Tokenizer t;
    CHECK(train_sample(&t, 300) == 0, "train: %s", err_msg());
    char *out = NULL;
    size_t len = 0, cap = 0;
    tokenizer_decode_append(&t, TOK_USER, &out, &len, &cap);
    tokenizer_decode_append(&t, 'x', &out, &len, &cap);
    tokenizer_decode_append(&t, TOK_BOT, &out, &len, &cap);
    tokenizer_decode_append(&t, TOK_EOT, &out, &len, &cap);
    tokenizer_decode_append(&t, -5, &out, &len, &cap);       /* out of range: nothing */
    tokenizer_decode_append(&t, t.vocab_size, &out, &len, &cap);
    CHECK(len == 1 && out[0] == 'x', "decoded %zu bytes", len);
    CHECK(tokenizer_is_special(TOK_USER) && tokenizer_is_special(TOK_BOT) &&
              tokenizer_is_special(TOK_EOT) && !tokenizer_is_special('x') &&
              !tokenizer_is_special(TOK_FIRST_MERGE),
          "is_special");
    CHECK(strcmp((char *)t.bytes[TOK_USER], "<user>") == 0, "display name of TOK_USER");
    free(out);
    tokenizer_free(&t);
}

static void test_tokenizer_encodes_one_megabyte(void) {
    Tokenizer t;
    CHECK(train_sample(&t, 600) == 0, "train: %s", err_msg());
    size_t len = 1 << 20;
    char *text = xmalloc(len);
    Rng r;
    rng_seed(&r, 3);
    for (size_t i = 0; i < len / 2; i++) text[i] = (char)rng_u32(&r);
    for (size_t i = len / 2; i < len; i++) text[i] = sample_text[i % strlen(sample_text)];
    CHECK(round_trips(&t, text, len), "1 MB of mixed random bytes and text should round trip");
    free(text);
    tokenizer_free(&t);
}

int main(void) {
    RUN(test_tokenizer_round_trips_random_bytes);
    RUN(test_tokenizer_round_trips_long_runs);
    RUN(test_tokenizer_train_is_deterministic);
    RUN(test_tokenizer_train_matches_slow_reference);
    RUN(test_tokenizer_train_reaches_requested_vocab);
    RUN(test_tokenizer_train_rejects_tiny_vocab);
    RUN(test_tokenizer_merges_compress_typical_text);
    RUN(test_tokenizer_chunks_do_not_cross_words);
    RUN(test_tokenizer_from_merges_rejects_bad_lists);
    RUN(test_tokenizer_from_merges_matches_trained);
    RUN(test_corpus_encode_wraps_turns);
    RUN(test_corpus_encode_file_names_missing_file);
    RUN(test_special_tokens_decode_to_nothing);
    RUN(test_tokenizer_encodes_one_megabyte);
    return check_summary();
}
