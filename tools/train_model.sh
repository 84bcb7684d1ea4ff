#!/bin/sh
# Reproduces assets/rlchat.model from the dialogue corpus with the settings it was trained
# with (about 65 minutes on a 2-core machine). Resumable: run it again after an
# interruption and it continues from runs/rlchat.model.ckpt.
#   CORPUS=../shared/data/corpus tools/train_model.sh
set -e
corpus=${CORPUS:-../shared/data/corpus}
if [ ! -f "$corpus/train.txt" ]; then
    echo "train_model: $corpus/train.txt not found (set CORPUS to the corpus folder)" >&2
    exit 1
fi
mkdir -p runs
resume=""
[ -f runs/rlchat.model.ckpt ] && resume="--resume"
./rlchat train --corpus "$corpus/train.txt" --valid "$corpus/valid.txt" --out runs/rlchat.model \
    --vocab 4096 --embed 320 --hidden 320 --layers 2 --tied --batch 32 --seq 64 --lr 2e-3 \
    --epochs 3 --seed 1 --checkpoint-every 5 --fp16 $resume
./rlchat eval --model runs/rlchat.model --corpus "$corpus/test.txt"
echo "train_model: wrote runs/rlchat.model; copy it to assets/rlchat.model if it beats the shipped one"
