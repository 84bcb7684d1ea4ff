#!/usr/bin/python3
"""Remakes tests/fixtures/lstm_small.bin: a tiny LSTM language model run through PyTorch
(nn.Embedding, nn.LSTM, nn.Linear, cross-entropy) so test_lstm.c can check our forward
and backward against it. Needs Debian's python3-torch; rlchat itself never does.

File layout (little-endian): int32 V E H L B T; int32 inputs (B,T); int32 targets (B,T);
float32 params in rlchat's layout (embedding; per layer w_ih, w_hh, b_ih + b_hh; out_w,
out_b); float32 logits (T,B,V) time-major; float32 loss; float32 grads, same layout."""
import struct
import sys

import torch

V, E, H, L, B, T = 11, 5, 6, 2, 2, 5
torch.manual_seed(1234)
emb = torch.nn.Embedding(V, E)
lstm = torch.nn.LSTM(E, H, num_layers=L, batch_first=True)
out = torch.nn.Linear(H, V)
with torch.no_grad():
    for p in list(lstm.parameters()) + list(out.parameters()):
        p.uniform_(-0.5, 0.5)
inputs = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))
targets[1, 2] = -1  # an ignored position, as rlchat's loss allows

h, _ = lstm(emb(inputs))
logits = out(h)
loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-1)
loss.backward()


def layout(get):
    parts = [get(emb.weight)]
    for l in range(L):
        w_ih, w_hh = getattr(lstm, f"weight_ih_l{l}"), getattr(lstm, f"weight_hh_l{l}")
        b_ih, b_hh = getattr(lstm, f"bias_ih_l{l}"), getattr(lstm, f"bias_hh_l{l}")
        # rlchat has one bias; its gradient equals each of PyTorch's two.
        bias = get(b_ih) + get(b_hh) if get is value else get(b_ih)
        parts += [get(w_ih), get(w_hh), bias]
    parts += [get(out.weight), get(out.bias)]
    return torch.cat([p.reshape(-1) for p in parts])


def value(p):
    return p.detach()


def grad(p):
    return p.grad


path = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/lstm_small.bin"
with open(path, "wb") as f:
    f.write(struct.pack("<6i", V, E, H, L, B, T))
    f.write(struct.pack(f"<{B*T}i", *inputs.reshape(-1).tolist()))
    f.write(struct.pack(f"<{B*T}i", *targets.reshape(-1).tolist()))
    for arr in (layout(value), logits.detach().transpose(0, 1).reshape(-1), loss.detach().reshape(1),
                layout(grad)):
        f.write(struct.pack(f"<{arr.numel()}f", *arr.tolist()))
print("wrote", path)
