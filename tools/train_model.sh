#!/bin/sh
# Reproduces assets/rlchat.model from the dialogue corpus with the settings it was trained
# with (21.9 M tokens: about 76 minutes on a quiet 2-core machine). Resumable: run it again
# after an interruption and it continues from runs/rlchat.model.ckpt.
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
    --vocab 4096 --embed 320 --hidden 320 --layers 2 --tied --batch 32 --seq 64 --lr 2e-3 --lr-min 0.01 \
    --epochs 4 --seed 1 --checkpoint-every 5 --fp16 $resume
./rlchat eval --model runs/rlchat.model --corpus "$corpus/test.txt"
echo "train_model: wrote runs/rlchat.model; to ship it, keep the shipped one as assets/rlchat-vN.model (profiles made on it find it there) and copy this over assets/rlchat.model"
