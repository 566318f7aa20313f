#!/usr/bin/env python3
"""Kindling <-> nanoGPT, checked against nanoGPT's own model.py (scripts/nanogpt-roundtrip.sh).

    roundtrip.py fixtures --nanogpt DIR --text FILE --out DIR
        A tiny nanoGPT GPT trained a few steps on FILE and saved as nanoGPT's train.py saves it
        (ckpt.pt: model, optimizer, model_args, iter_num, best_val_loss, config), the dataset's
        meta.pkl as data/*/prepare.py writes it, and logits.json: the model's logits at every
        position of a prompt. tests/native/interop.rs imports these and compares (CI has no
        PyTorch).

    roundtrip.py check --nanogpt DIR --text FILE --kindling BIN --work DIR
        1. nanoGPT -> Kindling: `kindling import` of the fixtures, `kindling next --json` against
           PyTorch's logits.
        2. Kindling -> nanoGPT: `kindling train`, `kindling export`, then nanoGPT's GPT loads the
           safetensors (GPTConfig from the manifest) and its logits are compared with Kindling's.
        Prints the largest difference of each; fails above 1e-4.
"""

import argparse
import json
import os
import pickle
import subprocess
import sys

import torch

TOLERANCE = 1e-4
PROMPT_CHARS = 24


def nanogpt(directory):
    sys.path.insert(0, directory)
    import model  # nanoGPT's model.py

    return model


def vocabulary(text):
    chars = sorted(set(text))  # as nanoGPT's data/shakespeare_char/prepare.py
    return {i: ch for i, ch in enumerate(chars)}, {ch: i for i, ch in enumerate(chars)}


def all_logits(gpt, ids):
    """Logits at every position: nanoGPT's forward returns them all only when given targets."""
    idx = torch.tensor([ids], dtype=torch.long)
    with torch.no_grad():
        logits, _ = gpt(idx, torch.zeros_like(idx))
    return logits[0]


def fixtures(args):
    model = nanogpt(args.nanogpt)
    text = open(args.text, encoding="utf-8").read()
    itos, stoi = vocabulary(text)
    torch.manual_seed(1337)
    model_args = dict(n_layer=2, n_head=2, n_embd=16, block_size=32, bias=False,
                      vocab_size=len(itos), dropout=0.0)
    gpt = model.GPT(model.GPTConfig(**model_args))
    optimizer = gpt.configure_optimizers(0.1, 3e-3, (0.9, 0.99), "cpu")
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    for _ in range(30):  # nanoGPT's get_batch and training step
        starts = torch.randint(len(data) - 33, (8,))
        x = torch.stack([data[i:i + 32] for i in starts])
        y = torch.stack([data[i + 1:i + 33] for i in starts])
        _, loss = gpt(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    os.makedirs(args.out, exist_ok=True)
    checkpoint = {
        "model": gpt.state_dict(),
        "optimizer": optimizer.state_dict(),
        "model_args": model_args,
        "iter_num": 30,
        "best_val_loss": float(loss.item()),
        "config": {"dataset": "kindling-fixture", "learning_rate": 3e-3, "compile": False},
    }
    torch.save(checkpoint, os.path.join(args.out, "ckpt.pt"))
    with open(os.path.join(args.out, "meta.pkl"), "wb") as f:
        pickle.dump({"vocab_size": len(itos), "itos": itos, "stoi": stoi}, f)
    prompt = text[:PROMPT_CHARS]
    ids = [stoi[c] for c in prompt]
    gpt.eval()
    logits = all_logits(gpt, ids)
    with open(os.path.join(args.out, "logits.json"), "w") as f:
        json.dump({"prompt": prompt, "ids": ids, "logits": logits.tolist()}, f)
    print(f"wrote {args.out}: ckpt.pt, meta.pkl, logits.json (loss {loss.item():.4f} after 30 steps)")


def kindling(binary, *arguments):
    done = subprocess.run([binary, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"kindling {' '.join(arguments)} failed:\n{done.stderr}")
    return done.stdout


def kindling_logits(binary, model_file, prompt):
    out = json.loads(kindling(binary, "next", model_file, "--prompt", prompt, "--json"))
    return out["ids"], torch.tensor(out["logits"])


def compare(name, ours, theirs):
    difference = (ours - theirs).abs().max().item()
    verdict = "ok" if difference <= TOLERANCE else "FAILED"
    print(f"{name}: largest logit difference {difference:.2e} over {tuple(ours.shape)} ({verdict})")
    return difference <= TOLERANCE


def check(args):
    model = nanogpt(args.nanogpt)
    text = open(args.text, encoding="utf-8").read()
    os.makedirs(args.work, exist_ok=True)
    fixture_dir = os.path.join(args.work, "fixtures")
    fixtures(argparse.Namespace(nanogpt=args.nanogpt, text=args.text, out=fixture_dir))

    # 1. nanoGPT -> Kindling.
    imported = os.path.join(args.work, "imported.kindling")
    kindling(args.kindling, "import", os.path.join(fixture_dir, "ckpt.pt"), "--meta",
             os.path.join(fixture_dir, "meta.pkl"), "--text", args.text, "--out", imported)
    expected = json.load(open(os.path.join(fixture_dir, "logits.json")))
    ids, ours = kindling_logits(args.kindling, imported, expected["prompt"])
    assert ids == expected["ids"], (ids, expected["ids"])
    ok = compare("nanoGPT ckpt.pt -> Kindling", ours, torch.tensor(expected["logits"]))

    # 2. Kindling -> nanoGPT.
    trained = os.path.join(args.work, "trained.kindling")
    weights = os.path.join(args.work, "trained.safetensors")
    kindling(args.kindling, "train", "--text", args.text, "--steps", "40", "--set", "nEmbd=32",
             "--set", "nHead=4", "--out", trained)
    kindling(args.kindling, "export", trained, "--out", weights)
    from safetensors.torch import load_file

    manifest = json.load(open(weights[:-len(".safetensors")] + ".json"))
    gpt = model.GPT(model.GPTConfig(**manifest["nanogpt"]))
    missing, unexpected = gpt.load_state_dict(load_file(weights), strict=False)
    # The LM head is tied to the token embedding: loading one loads both.
    assert set(missing) <= {"lm_head.weight"} and not unexpected, (missing, unexpected)
    gpt.eval()
    prompt = text[:PROMPT_CHARS]
    ids, ours = kindling_logits(args.kindling, trained, prompt)
    ok &= compare("Kindling safetensors -> nanoGPT", ours, all_logits(gpt, ids))
    sys.exit(0 if ok else 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("fixtures")
    run = commands.add_parser("check")
    for sub in (make, run):
        sub.add_argument("--nanogpt", required=True, help="a checkout of karpathy/nanoGPT")
        sub.add_argument("--text", required=True)
    make.add_argument("--out", required=True)
    run.add_argument("--kindling", required=True, help="the kindling binary")
    run.add_argument("--work", required=True)
    args = parser.parse_args()
    fixtures(args) if args.command == "fixtures" else check(args)


if __name__ == "__main__":
    main()
