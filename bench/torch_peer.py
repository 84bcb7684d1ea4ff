#!/usr/bin/python3
"""The peer for `make bench`: the same LSTM language model in PyTorch (nn.Embedding,
nn.LSTM, nn.Linear, cross-entropy, Adam) on the same shapes and threads, printed as
`name value unit` lines. Needs Debian's python3-torch; rlchat never does."""
import sys
import time

import torch

V, E, H, L, B, T = 4096, 256, 512, 2, 32, 64
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)


class LM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(V, E)
        self.lstm = torch.nn.LSTM(E, H, num_layers=L, batch_first=True)
        self.out = torch.nn.Linear(H, V)

    def forward(self, x, state=None):
        h, state = self.lstm(self.emb(x), state)
        return self.out(h), state


model = LM()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randint(0, V, (B, T))
y = torch.randint(0, V, (B, T))


def train_step():
    opt.zero_grad()
    logits, _ = model(x)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


train_step()
steps, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 8 or steps < 3:
    train_step()
    steps += 1
print(f"torch_train_tokens_per_s {steps * B * T / (time.perf_counter() - t0):.0f} tokens/s")

# Generation at batch 1 with sampling (temperature 0.8, top-p 0.9), as rlchat does.
with torch.no_grad():
    tok, state, n, t0 = torch.tensor([[1]]), None, 0, time.perf_counter()
    while time.perf_counter() - t0 < 3:
        logits, state = model(tok, state)
        probs = torch.softmax(logits[0, -1] / 0.8, -1)
        sp, si = torch.sort(probs, descending=True)
        keep = torch.cumsum(sp, 0) - sp < 0.9
        choice = torch.multinomial(sp[keep] / sp[keep].sum(), 1)
        tok = si[keep][choice].reshape(1, 1)
        n += 1
    print(f"torch_gen_tokens_per_s {n / (time.perf_counter() - t0):.0f} tokens/s")

# A rating-sized update: forward, backward and Adam over 64 tokens at batch 1.
x1, y1, times = x[:1], y[:1], []
for _ in range(30):
    t0 = time.perf_counter()
    opt.zero_grad()
    logits, _ = model(x1)
    torch.nn.functional.cross_entropy(logits.reshape(-1, V), y1.reshape(-1)).backward()
    opt.step()
    times.append((time.perf_counter() - t0) * 1e3)
times.sort()
print(f"torch_update_ms_median {times[15]:.2f} ms")
