#!/bin/sh
# test_mpi: data-parallel `rlchat train` over MPI (make MPI=1), on a tiny model trained here:
#   one process and `mpirun -np 2` from the same seed and global batch follow the same loss
#   curve step by step and end with the same eval figures; non-finite steps are skipped by
#   every rank together; a run resumes exactly on another
#   number of ranks (2 -> 1, 1 -> 3 with uneven shares); `rlchat tokenize` writes the stream
#   `train --corpus` makes, whatever its chunk size, and `train --tokens` trains on it; a
#   damaged token file or too small a batch ends the job with an error, not a hang; killing
#   one rank mid-run ends the job non-zero, the last checkpoint loads and --resume finishes.
# Skips (0 passed, 0 failed) when mpirun or mpicc is missing. Builds the MPI binary in
# build-mpi/ without touching the normal build. Last line: "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
BIN=${RLCHAT_BUILD:-build}/rlchat
MPIBIN=build-mpi/rlchat
. tests/check.sh

if ! command -v mpirun >/dev/null 2>&1 || ! command -v mpicc >/dev/null 2>&1; then
    echo "skipped: mpirun or mpicc not found (apt-get install openmpi-bin libopenmpi-dev)"
    finish
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rlchat-mpi.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
# Open MPI refuses to start as root unless told; containers and CI run as root. Two cores
# may host more ranks than they have (the uneven-share test runs three).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPIRUN="timeout 120 mpirun --oversubscribe -np"

if [ ! -x "$BIN" ]; then
    echo "FAIL rlchat is not built (run make)"
    fail=1
    finish
fi
if ! make --no-print-directory MPI=1 BUILD=build-mpi "$MPIBIN" >"$TMP/build.log" 2>&1; then
    cat "$TMP/build.log"
    echo "FAIL make MPI=1 BUILD=build-mpi $MPIBIN"
    fail=1
    finish
fi
check "the default build does not link MPI" sh -c "! ldd '$BIN' | grep -q libmpi"
check "the MPI build links MPI" sh -c "ldd '$MPIBIN' | grep -q libmpi"

# A deterministic corpus of short dialogues (about 35 KB).
awk 'BEGIN { srand(7); n = split("hi hello how are you i am fine thanks what is your favourite movie love star " \
      "wars me too do like music yes rock mostly good to hear the a cat dog runs fast slow day night", w, " ");
      for (d = 0; d < 300; d++) {
          k = 2 + int(rand() * 4);
          for (u = 0; u < k; u++) {
              l = 3 + int(rand() * 8); s = "";
              for (i = 0; i < l; i++) s = s (i ? " " : "") w[1 + int(rand() * n)];
              print s "."
          }
          print ""
      } }' >"$TMP/corpus.txt"
C="--vocab 300 --embed 16 --hidden 32 --layers 1 --batch 4 --seq 16 --warmup 5 --seed 3"

# Largest relative difference between two "step loss" logs (over the steps both have);
# "missing" when either is empty.
maxrel() {
    awk 'NR == FNR { a[$1] = $2; next }
         ($1 in a) { n++; d = (a[$1] - $2) / $2; if (d < 0) d = -d; if (d > m) m = d }
         END { if (n) printf "%.3g\n", m; else print "missing" }' "$1" "$2"
}
below() { awk -v x="$1" -v lim="$2" 'BEGIN { exit !(x != "missing" && x + 0 <= lim + 0) }'; }
field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# ---- one process against two ranks, same seed, same global batch ----
"$BIN" train --corpus "$TMP/corpus.txt" --out "$TMP/one.model" $C --steps 30 \
    --log-losses "$TMP/one.log" >"$TMP/one.out" 2>"$TMP/one.err"
$MPIRUN 2 "$MPIBIN" train --corpus "$TMP/corpus.txt" --out "$TMP/two.model" $C --steps 30 \
    --log-losses "$TMP/two.log" --valid "$TMP/corpus.txt" >"$TMP/two.out" 2>"$TMP/two.err"
rc=$?
check "mpirun -np 2 rlchat train runs 30 steps" [ "$rc" -eq 0 -a "$(field steps "$TMP/two.out")" = 30 ]
check "only rank 0 reports" [ "$(grep -c '^steps' "$TMP/two.out")" -eq 1 ]
check "30 losses from each run" [ "$(wc -l <"$TMP/one.log")" -eq 30 -a "$(wc -l <"$TMP/two.log")" -eq 30 ]
rel=$(maxrel "$TMP/one.log" "$TMP/two.log")
echo "# 1 rank vs 2 ranks: largest relative loss difference over 30 steps $rel"
check "2 ranks follow 1 rank's losses within 1e-4 relative (max $rel)" below "$rel" 1e-4
"$BIN" eval --model "$TMP/one.model" --corpus "$TMP/corpus.txt" >"$TMP/one.eval"
"$BIN" eval --model "$TMP/two.model" --corpus "$TMP/corpus.txt" >"$TMP/two.eval"
l1=$(field loss "$TMP/one.eval")
l2=$(field loss "$TMP/two.eval")
echo "# eval loss: 1 rank $l1, 2 ranks $l2 nats/token"
check "eval figures of the two models agree within 0.5% ($l1, $l2)" \
    awk -v a="$l1" -v b="$l2" 'BEGIN { d = (a - b) / a; exit !(a > 0 && d < 0.005 && d > -0.005) }'
lv=$(awk '$1 == "loss" { print $2 }' "$TMP/two.out")
check "the sharded validation equals rlchat eval ($lv, $l2)" [ "$lv" = "$l2" ]

# The MPI build's eval, alone and under mpirun, prints what the plain build's prints.
for how in alone "1" "2"; do
    if [ "$how" = alone ]; then "$MPIBIN" eval --model "$TMP/two.model" --corpus "$TMP/corpus.txt" >"$TMP/me.eval" 2>&1
    else $MPIRUN "$how" "$MPIBIN" eval --model "$TMP/two.model" --corpus "$TMP/corpus.txt" >"$TMP/me.eval" 2>&1; fi
    lm=$(field loss "$TMP/me.eval")
    check "the MPI build's eval ($how) gives the plain build's loss ($lm, $l2)" [ -n "$lm" -a "$lm" = "$l2" ]
done

# A learning rate of 1e30 blows the weights up after one step (a product of two weights
# overflows a float whatever the kernel's rounding): every later gradient is not finite,
# and every rank must skip those steps together (or the job would diverge or hang).
"$BIN" train --corpus "$TMP/corpus.txt" --out "$TMP/nan1.model" $C --steps 10 --lr 1e30 >"$TMP/nan1.out" 2>&1
$MPIRUN 2 "$MPIBIN" train --corpus "$TMP/corpus.txt" --out "$TMP/nan2.model" $C --steps 10 --lr 1e30 \
    >"$TMP/nan2.out" 2>&1
s1=$(field skipped_steps "$TMP/nan1.out")
s2=$(field skipped_steps "$TMP/nan2.out")
check "non-finite steps are skipped by all ranks together ($s1 and $s2 of 10)" [ -n "$s1" -a "$s1" = "$s2" -a "${s1:-0}" -gt 0 ]

# ---- exact resume on another number of ranks ----
$MPIRUN 2 "$MPIBIN" train --corpus "$TMP/corpus.txt" --out "$TMP/a.model" $C --steps 15 \
    --log-losses "$TMP/a.log" >/dev/null 2>&1
"$BIN" train --corpus "$TMP/corpus.txt" --out "$TMP/a.model" $C --steps 30 --resume \
    --log-losses "$TMP/a.log" >"$TMP/a.out" 2>&1
rel=$(maxrel "$TMP/one.log" "$TMP/a.log")
check "2 ranks for 15 steps, resumed on 1 for 15 more: the same losses (max $rel)" \
    [ "$(wc -l <"$TMP/a.log")" -eq 30 -a "$(field steps "$TMP/a.out")" = 30 ]
check "  ... within 1e-4" below "$rel" 1e-4
"$BIN" train --corpus "$TMP/corpus.txt" --out "$TMP/b.model" $C --steps 15 \
    --log-losses "$TMP/b.log" >/dev/null 2>&1
$MPIRUN 3 "$MPIBIN" train --corpus "$TMP/corpus.txt" --out "$TMP/b.model" $C --steps 30 --resume \
    --log-losses "$TMP/b.log" >"$TMP/b.out" 2>&1
rel=$(maxrel "$TMP/one.log" "$TMP/b.log")
check "1 rank for 15 steps, resumed on 3 (streams 1+1+2): the same losses (max $rel)" \
    [ "$(wc -l <"$TMP/b.log")" -eq 30 -a "$(field steps "$TMP/b.out")" = 30 ]
check "  ... within 1e-4" below "$rel" 1e-4

# ---- token files ----
"$BIN" tokenize --corpus "$TMP/corpus.txt" --model "$TMP/one.model" --out "$TMP/c.tok" >"$TMP/tok.out" 2>"$TMP/tok.err"
check "rlchat tokenize writes a token file" [ $? -eq 0 -a -s "$TMP/c.tok" ]
check "  ... with progress and its size" sh -c "grep -q 'tokenize: 100.0%' '$TMP/tok.err' && grep -q '^width 2' '$TMP/tok.out'"
"$BIN" tokenize --corpus "$TMP/corpus.txt" --model "$TMP/one.model" --out "$TMP/c1.tok" --chunk-kb 1 >/dev/null 2>&1
check "  ... the same bytes when read 1 KiB at a time" cmp -s "$TMP/c.tok" "$TMP/c1.tok"
"$BIN" train --tokens "$TMP/c.tok" --out "$TMP/t1.model" $C --steps 30 --log-losses "$TMP/t1.log" >/dev/null 2>&1
check "train --tokens loses exactly what train --corpus lost" cmp -s "$TMP/one.log" "$TMP/t1.log"
$MPIRUN 2 "$MPIBIN" train --tokens "$TMP/c.tok" --out "$TMP/t2.model" $C --steps 30 \
    --log-losses "$TMP/t2.log" >/dev/null 2>&1
rel=$(maxrel "$TMP/one.log" "$TMP/t2.log")
check "train --tokens on 2 ranks follows 1 rank (max $rel)" below "$rel" 1e-4
head -c 20000 "$TMP/c.tok" >"$TMP/cut.tok"
$MPIRUN 2 "$MPIBIN" train --tokens "$TMP/cut.tok" --out "$TMP/cut.model" $C --steps 5 >/dev/null 2>"$TMP/cut.err"
rc=$?
check "a truncated token file ends the job with an error ($rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
check "  ... that says so" grep -q "truncated" "$TMP/cut.err"
$MPIRUN 3 "$MPIBIN" train --corpus "$TMP/corpus.txt" --out "$TMP/small.model" $C --batch 2 --steps 5 \
    >/dev/null 2>"$TMP/small.err"
rc=$?
check "--batch below the number of ranks is refused ($rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
check "  ... with a reason" grep -q "smaller than the 3 ranks" "$TMP/small.err"

# ---- a rank dies mid-run ----
# Checkpoints every few milliseconds; once one exists, rank 1 is killed with SIGKILL.
K="$TMP/k.model"
# Long enough (4000 steps, about 2 s on an idle machine) that the job is still running
# when the first checkpoint appears; 600 steps could end before the scan below.
($MPIRUN 2 "$MPIBIN" train --corpus "$TMP/corpus.txt" --out "$K" $C --steps 4000 --epochs 200 \
    --checkpoint-every 0.0002 >"$TMP/k.out" 2>"$TMP/k.err"; echo $? >"$TMP/k.rc") &
i=0
while [ ! -f "$K.ckpt" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
killed=""
for d in /proc/[0-9]*; do
    grep -q "$K" "$d/cmdline" 2>/dev/null || continue
    tr '\0' '\n' <"$d/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' || continue
    kill -9 "${d#/proc/}" 2>/dev/null && killed="${d#/proc/}"
done
wait
rc=$(cat "$TMP/k.rc")
check "rank 1 was killed mid-run (pid ${killed:-none})" [ -n "$killed" ]
check "  ... and the job ended with a non-zero status ($rc)" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
"$BIN" eval --model "$K.ckpt" --corpus "$TMP/corpus.txt" >"$TMP/k.eval" 2>&1
check "  ... the last checkpoint loads" grep -q '^loss' "$TMP/k.eval"
$MPIRUN 2 "$MPIBIN" train --corpus "$TMP/corpus.txt" --out "$K" $C --steps 4000 --epochs 200 --resume \
    >"$TMP/k2.out" 2>"$TMP/k2.err"
rc=$?
check "  ... and --resume finishes the run ($rc, $(field steps "$TMP/k2.out") steps)" \
    [ "$rc" -eq 0 -a "$(field steps "$TMP/k2.out")" = 4000 ]
check "  ... from where it stopped" grep -q "resuming from" "$TMP/k2.err"
finish
