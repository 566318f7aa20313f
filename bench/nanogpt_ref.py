#!/usr/bin/env python3
"""PyTorch reference for Kindling's benchmarks: nanoGPT's model.py and train.py, cut down to the
baby-GPT recipe of shakespeare_char on a CPU (the run nanoGPT's README gives, whose val loss is
1.8857):

    4 layers, 4 heads, 128 dims, context 64, batch 12, dropout 0, no biases, LM head tied to the
    token embedding (as Kindling's baby-gpt), nanoGPT's init (N(0, 0.02), residual projections
    0.02/sqrt(2*n_layer)), AdamW (0.9, 0.99) with weight decay 0.1 on >=2-D parameters only,
    fused=False, lr 1e-3 -> 1e-4 cosine over 2000 iterations after 100 of linear warmup,
    global grad-norm clip 1.0, float32, no torch.compile.

Data: char-level tinyshakespeare, vocabulary = the sorted distinct characters of the whole text,
first 90% train / last 10% val, random windows (nanoGPT's prepare.py and get_batch).

One iteration = get_batch + forward + backward + clip + step + zero_grad + loss.item() (nanoGPT
reads the loss back every iteration when log_interval=1, as its CPU recipe sets). The
intermediate evaluations nanoGPT runs every 250 iterations are left out; --eval measures the val
loss once at the end over 20 batches of 12 (nanoGPT's --eval_iters=20).

    python bench/nanogpt_ref.py --data ../shared/data/tinyshakespeare.txt --threads 1 \
        --iters 60 --warmup 10 --json

--seconds S trains for S seconds of wall time instead (scripts/bench-speedrun.sh): 25
iterations of a throwaway copy measure the speed, the cosine is stretched to end at the
iterations that fit (nanoGPT's own schedule, given the budget as its length), and training stops
there or at S seconds, whichever comes first. --val-all then measures the val loss over every
window of 64 of the val split, one after another, split as Kindling splits (round(0.9 n)): the
windows `kindling eval --all` uses.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch's has no bias=False before 2.1)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg["n_embd"] % cfg["n_head"] == 0
        self.c_attn = nn.Linear(cfg["n_embd"], 3 * cfg["n_embd"], bias=cfg["bias"])
        self.c_proj = nn.Linear(cfg["n_embd"], cfg["n_embd"], bias=cfg["bias"])
        self.attn_dropout = nn.Dropout(cfg["dropout"])
        self.resid_dropout = nn.Dropout(cfg["dropout"])
        self.n_head = cfg["n_head"]
        self.n_embd = cfg["n_embd"]
        self.dropout = cfg["dropout"]
        # nanoGPT uses the fused kernel whenever PyTorch has it (>= 2.0).
        self.flash = hasattr(F, "scaled_dot_product_attention")
        if not self.flash:
            block = cfg["block_size"]
            self.register_buffer(
                "bias", torch.tril(torch.ones(block, block)).view(1, 1, block, block)
            )

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None,
                dropout_p=self.dropout if self.training else 0, is_causal=True,
            )
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = self.attn_dropout(F.softmax(att, dim=-1))
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg["n_embd"], 4 * cfg["n_embd"], bias=cfg["bias"])
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * cfg["n_embd"], cfg["n_embd"], bias=cfg["bias"])
        self.dropout = nn.Dropout(cfg["dropout"])

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = LayerNorm(cfg["n_embd"], bias=cfg["bias"])
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = LayerNorm(cfg["n_embd"], bias=cfg["bias"])
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg["vocab_size"], cfg["n_embd"]),
            wpe=nn.Embedding(cfg["block_size"], cfg["n_embd"]),
            drop=nn.Dropout(cfg["dropout"]),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg["n_layer"])]),
            ln_f=LayerNorm(cfg["n_embd"], bias=cfg["bias"]),
        ))
        self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab_size"], bias=False)
        # Weight tying, as nanoGPT (and Kindling's baby-gpt).
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg["n_layer"]))

    def num_params(self):
        # All trainable parameters, counted once (the tied matrix once), position embedding
        # included (nanoGPT's own print leaves wpe out).
        return sum(p.numel() for p in self.parameters())

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        _, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        params = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay = [p for p in params.values() if p.dim() >= 2]
        nodecay = [p for p in params.values() if p.dim() < 2]
        groups = [
            {"params": decay, "weight_decay": weight_decay},
            {"params": nodecay, "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas, fused=False)


RECIPE = dict(
    n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, dropout=0.0, bias=False,
    learning_rate=1e-3, min_lr=1e-4, warmup_iters=100, lr_decay_iters=2000, max_iters=2000,
    weight_decay=0.1, beta1=0.9, beta2=0.99, grad_clip=1.0, eval_iters=20,
)


def get_lr(it, r):
    """nanoGPT's schedule: linear warmup, cosine decay to min_lr, then min_lr."""
    if it < r["warmup_iters"]:
        return r["learning_rate"] * (it + 1) / (r["warmup_iters"] + 1)
    if it > r["lr_decay_iters"]:
        return r["min_lr"]
    decay_ratio = (it - r["warmup_iters"]) / (r["lr_decay_iters"] - r["warmup_iters"])
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return r["min_lr"] + coeff * (r["learning_rate"] - r["min_lr"])


def load_data(path):
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = len(ids)
    return ids[: int(n * 0.9)], ids[int(n * 0.9):], len(chars)


def load_data_kindling_split(path):
    """As load_data, with Kindling's split: the first round(0.9 n) characters train."""
    train, val, vocab = load_data(path)
    ids = torch.cat([train, val])
    n_train = round(len(ids) * 0.9)
    return ids[:n_train], ids[n_train:], vocab


@torch.no_grad()
def val_loss_all_windows(model, val, r, batch=64):
    """Mean loss over consecutive windows of block_size covering the val split."""
    model.eval()
    block = r["block_size"]
    windows = (len(val) - 1) // block
    total = 0.0
    for first in range(0, windows, batch):
        rows = min(batch, windows - first)
        start = first * block
        x = val[start: start + rows * block].view(rows, block)
        y = val[start + 1: start + 1 + rows * block].view(rows, block)
        total += model(x, y).item() * rows
    model.train()
    return total / windows


def get_batch(data, r):
    ix = torch.randint(len(data) - r["block_size"], (r["batch_size"],))
    x = torch.stack([data[i: i + r["block_size"]] for i in ix])
    y = torch.stack([data[i + 1: i + 1 + r["block_size"]] for i in ix])
    return x, y


@torch.no_grad()
def estimate_val_loss(model, val, r):
    model.eval()
    losses = [model(*get_batch(val, r)).item() for _ in range(r["eval_iters"])]
    model.train()
    return sum(losses) / len(losses)


def probe_ms_per_iter(cfg, train, iters=25, skip=5):
    """Median ms of one training iteration of a throwaway model (the first `skip` left out)."""
    model = GPT(cfg)
    optimizer = model.configure_optimizers(cfg["weight_decay"], cfg["learning_rate"],
                                           (cfg["beta1"], cfg["beta2"]))
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        loss = model(*get_batch(train, cfg))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[skip:])


def matmul_gflops(n=1024, repeats=50):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(5):
        a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "data", "tinyshakespeare.txt"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--iters", type=int, default=60, help="iterations to run in all")
    parser.add_argument("--warmup", type=int, default=10, help="iterations left out of timing")
    parser.add_argument("--eval", action="store_true", help="val loss over 20 batches at the end")
    parser.add_argument("--matmul", action="store_true", help="also time a 1024^2 f32 matmul")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--seconds", type=float, default=0,
                        help="train for this wall time, the schedule ending with it")
    parser.add_argument("--val-all", action="store_true",
                        help="val loss over every window of the val split (Kindling's split)")
    args = parser.parse_args()
    if args.iters <= args.warmup:
        parser.error("--iters must exceed --warmup")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    r = dict(RECIPE)
    train, val, vocab = (load_data_kindling_split if args.val_all else load_data)(args.data)
    if args.seconds > 0:
        ms = probe_ms_per_iter(dict(r, vocab_size=vocab), train)
        args.iters = max(int(args.seconds * 1000 / ms), args.warmup + 1)
        r["lr_decay_iters"] = args.iters
        r["warmup_iters"] = min(r["warmup_iters"], args.iters // 20)
        torch.manual_seed(args.seed)
    model = GPT(dict(r, vocab_size=vocab))
    model.train()
    optimizer = model.configure_optimizers(r["weight_decay"], r["learning_rate"],
                                           (r["beta1"], r["beta2"]))
    times, loss_value = [], float("nan")
    started = time.perf_counter()
    for it in range(args.iters):
        if args.seconds > 0 and time.perf_counter() - started >= args.seconds:
            args.iters = it
            break
        start = time.perf_counter()
        lr = get_lr(it, r)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(train, r)
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), r["grad_clip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = loss.item()
        times.append((time.perf_counter() - start) * 1000)
        if (it + 1) % 250 == 0 or it + 1 == args.iters:
            recent = statistics.median(times[max(args.warmup, it - 249): it + 1] or times)
            print(f"iter {it + 1:5d}  loss {loss_value:.4f}  {recent:.1f} ms/iter",
                  file=sys.stderr)

    measured = times[args.warmup:]
    result = {
        "torchVersion": torch.__version__,
        "threads": torch.get_num_threads(),
        "iters": args.iters,
        "warmup": args.warmup,
        "parameters": model.num_params(),
        "vocab": vocab,
        "msPerIterMedian": statistics.median(measured),
        "msPerIterMean": statistics.fmean(measured),
        "totalMs": sum(times),
        "lastTrainLoss": loss_value,
        "lastLr": get_lr(args.iters - 1, r),
        "trainSeconds": time.perf_counter() - started,
    }
    if args.val_all:
        result["valLossAllWindows"] = val_loss_all_windows(model, val, r)
    if args.eval:
        result["valLoss"] = estimate_val_loss(model, val, r)
        result["evalBatches"] = r["eval_iters"]
    if args.matmul:
        result["matmul1024Gflops"] = matmul_gflops()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
