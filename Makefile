# rlchat: build, run, test, check (sanitizers), bench, install, clean.
# `make run` and `make test` first install missing Debian packages (tools/deps.sh).

CC      ?= cc
PREFIX  ?= /usr/local
OPT     ?= -O3 -march=native -g
# -fno-math-errno: nothing reads errno after a math call, and without it sqrtf is a call
# the vectorizer cannot see through (Adam's pass).
CFLAGS  := $(OPT) -std=c11 -fno-math-errno -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I. \
           -DRLCHAT_SHARE_DIR='"$(PREFIX)/share/rlchat"'
PKGS    := ncursesw readline openblas
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS  += $(PKG_LIBS) -lpthread -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
MODEL   ?= assets/rlchat.model

# make MPI=1: `rlchat train` runs data-parallel under mpirun (model/distributed.c is the
# only file that uses MPI). Its objects go to build-mpi/ so the two builds never mix.
ifeq ($(MPI),1)
CC      := mpicc
CFLAGS  += -DRLCHAT_MPI
BUILD   ?= build-mpi
endif

# Every .c in the three rooms is part of the program; app/main.c holds main(). app/ holds
# the chat, app/cli/ the other subcommands, app/sim/ the simulated users of `simulate`.
LIB_SRC  := $(filter-out app/main.c,$(wildcard model/*.c rl/*.c app/*.c app/cli/*.c app/sim/*.c))
HEADERS  := $(wildcard */*.h */*/*.h)
TEST_SRC := $(wildcard tests/test_*.c)
BUILD    ?= build
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
# Fixtures several tests share, linked into every test.
TEST_LIB := $(BUILD)/tests/tiny_model.o
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

# rlchat is phony so that it always becomes the binary of this build (plain or MPI=1).
.PHONY: all run test check bench install clean deps model eval-safety rlchat
all: rlchat

rlchat: $(BUILD)/rlchat
	cp $< $@.tmp && mv $@.tmp $@

$(BUILD)/rlchat: $(BUILD)/app/main.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# The installed share folder is compiled into app/assets.c: another PREFIX rebuilds it.
PREFIX_STAMP := $(BUILD)/prefix$(subst /,_,$(PREFIX))
$(BUILD)/app/assets.o: $(PREFIX_STAMP)
$(PREFIX_STAMP):
	@mkdir -p $(dir $@) && rm -f $(BUILD)/prefix_* && touch $@

$(BUILD)/tests/%: tests/%.c $(LIB_OBJ) $(TEST_LIB) tests/check.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(TEST_LIB) $(LDLIBS)

deps:
	@tools/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	./rlchat --model $(MODEL)

test: deps
	@$(MAKE) --no-print-directory all $(TESTS)
	@tests/run.sh $(BUILD)

# The same tests built with AddressSanitizer and UndefinedBehaviorSanitizer.
check: deps
	@$(MAKE) --no-print-directory BUILD=build-san OPT="-O1 -g $(SAN)" LDFLAGS="$(SAN)" \
		build-san/rlchat $(TEST_SRC:tests/%.c=build-san/tests/%)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh build-san

BENCH_SRC := $(wildcard bench/bench_*.c)
# The shape, set-up and timing statistics every benchmark shares.
BENCH_LIB := $(BUILD)/bench/common.o
$(BUILD)/bench/%: bench/%.c $(LIB_OBJ) $(BENCH_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(BENCH_LIB) $(LDLIBS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
	@! command -v mpicc >/dev/null 2>&1 || $(MAKE) --no-print-directory MPI=1 BUILD=build-mpi build-mpi/bench/bench_dist
	@bench/run.sh $(BUILD)

# Retrains the shipped model from the corpus with the recorded settings (about 76 minutes).
model: all
	@tools/train_model.sh

# Block rates of the safety filter on the shared evaluation sets (skips when absent).
eval-safety: all
	@tools/eval_safety.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/rlchat
	install -m 755 rlchat $(DESTDIR)$(PREFIX)/bin/rlchat
	install -m 644 man/rlchat.1 $(DESTDIR)$(PREFIX)/share/man/man1/rlchat.1
	cp -r assets/. $(DESTDIR)$(PREFIX)/share/rlchat/

clean:
	rm -rf build build-san build-mpi rlchat
