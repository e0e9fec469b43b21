#!/usr/bin/env python3
"""Writes SLoRA.Grid's parity fixtures from the outside oracle: Hugging Face transformers + PEFT.

Run it on the GPU machine (torch, transformers, peft, tokenizers and sentencepiece are there):

    python3 tools/make_fixtures.py --out tests/fixtures

It writes, all small enough to commit:
  models/llama-gqa/    tiny LlamaForCausalLM, grouped-query attention (4 heads, 2 KV heads),
                       untied lm_head, byte-level BPE tokenizer.json trained by `tokenizers`
  models/llama-tied/   tiny LlamaForCausalLM, tied embeddings, explicit head_dim (heads*head_dim
                       != hidden), rope_theta 5e5, two eos ids, sharded safetensors with
                       model.safetensors.index.json, SentencePiece tokenizer.model
  adapters/<model>/<name>/  PEFT LoRA adapters of ranks 4..16 (attention only, all-linear,
                       rslora with layers_to_transform, rank_pattern/alpha_pattern)
  reference/<model>.json    greedy continuations and logits at sampled positions, for the base
                       model and for each adapter alone, computed in float32 on the CPU from the
                       fp16 weights as stored; plus HF's own fp16-vs-fp32 logit gap on CUDA,
                       which calibrates the tolerance the C# parity tests use.
  reference/tokenizers.json reference encodings of sample strings by both tokenizers.
"""
import argparse
import copy
import json
import os
import platform
import random
import shutil
import tempfile

import torch

import transformers
import peft
from transformers import LlamaConfig, LlamaForCausalLM
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file

NEW_TOKENS = 24
CANDIDATE_PROMPTS = 28
KEPT_PROMPTS = 6

MODELS = {
    "llama-gqa": dict(
        hidden_size=128, intermediate_size=256, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5,
        rope_theta=10000.0, vocab_size=512, max_position_embeddings=256,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
        initializer_range=0.05),
    "llama-tied": dict(
        hidden_size=96, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, head_dim=32, rms_norm_eps=1e-6,
        rope_theta=500000.0, vocab_size=512, max_position_embeddings=128,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=[2, 3],
        initializer_range=0.05),
}

ADAPTERS = {
    "llama-gqa": {
        "attn-r4": dict(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
        "all-r8": dict(r=8, lora_alpha=16, target_modules="all-linear"),
        "rslora-r16": dict(r=16, lora_alpha=32, use_rslora=True,
                           target_modules=["q_proj", "v_proj", "gate_proj", "down_proj"],
                           layers_to_transform=[0, 2]),
        "pattern-r8": dict(r=8, lora_alpha=8, target_modules=["q_proj", "k_proj", "up_proj", "down_proj"],
                           rank_pattern={"down_proj": 12}, alpha_pattern={"k_proj": 24}),
    },
    "llama-tied": {
        "all-r8": dict(r=8, lora_alpha=16, target_modules="all-linear"),
    },
}

CORPUS_LINES = [
    "The quick brown fox jumps over the lazy dog.",
    "Serving thousands of LoRA adapters on one GPU needs a unified page pool.",
    "Adapters are swapped between host memory and the GPU as requests need them.",
    "A batch mixes requests for different adapters and different ranks.",
    "Continuous batching lets new requests join without waiting for the batch to drain.",
    "Le café de la gare est fermé le dimanche, déjà à midi.",
    "Zürich, Köln und München liegen nicht am Meer.",
    "東京は日本の首都です。大阪も大きな都市です。",
    "Hello, world! 123 + 456 = 579; x*y/z - (a_b).",
    "def forward(self, x):\n    return self.down(self.act(self.gate(x)) * self.up(x))\n",
    "Grouped-query attention shares one key and value head among several query heads.",
    "Rotary position embeddings rotate pairs of channels by an angle that grows with position.",
]

TOKENIZER_SAMPLES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "  leading spaces and trailing  ",
    "Le café déjà fermé",
    "東京は日本の首都です",
    "emoji 🙂 and 🚀 are not in the corpus",
    "line one\nline two\ttabbed",
    "numbers 3.14159 and 2718",
]


def corpus():
    rng = random.Random(7)
    lines = []
    for i in range(400):
        line = CORPUS_LINES[i % len(CORPUS_LINES)]
        words = line.split(" ")
        rng.shuffle(words)
        lines.append(" ".join(words))
        lines.append(line)
    return lines


def train_bpe(folder):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, min_frequency=1,
                                  special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer)
    tok.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
                   "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=2)
    samples = []
    for text in TOKENIZER_SAMPLES:
        enc = tok.encode(text, add_special_tokens=False)
        samples.append({"text": text, "ids": enc.ids, "decoded": tok.decode(enc.ids)})
    return {"kind": "bpe-json", "vocab_size": tok.get_vocab_size(), "samples": samples}


def train_sentencepiece(folder):
    import sentencepiece as spm
    work = tempfile.mkdtemp()
    corpus_file = os.path.join(work, "corpus.txt")
    with open(corpus_file, "w", encoding="utf-8") as f:
        f.write("\n".join(l.replace("\n", " ") for l in corpus()))
    prefix = os.path.join(work, "sp")
    spm.SentencePieceTrainer.train(
        input=corpus_file, model_prefix=prefix, vocab_size=512, model_type="bpe",
        byte_fallback=True, character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        hard_vocab_limit=False, add_dummy_prefix=True, normalization_rule_name="identity",
        minloglevel=2)
    shutil.copy(prefix + ".model", os.path.join(folder, "tokenizer.model"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                   "add_bos_token": True, "tokenizer_class": "LlamaTokenizer"}, f, indent=2)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    samples = []
    for text in TOKENIZER_SAMPLES:
        ids = sp.encode(text)
        samples.append({"text": text, "ids": ids, "decoded": sp.decode(ids)})
    return {"kind": "sentencepiece", "vocab_size": sp.get_piece_size(), "samples": samples}


def fp16_exact(module):
    """Rounds every parameter to fp16 and back, so that the fp32 reference uses exactly the
    weights that are stored on disk as fp16."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.half().float())


def make_base(name, spec, seed):
    torch.manual_seed(seed)
    cfg = LlamaConfig(**spec)
    model = LlamaForCausalLM(cfg).float().eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                # HF initialises norms to 1; random norms prove that the weights are applied.
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
        # Peaked output distributions keep greedy decoding away from near-ties, so that fp16
        # rounding cannot flip an argmax (the margins are recorded and checked below).
        if cfg.tie_word_embeddings:
            model.model.embed_tokens.weight.mul_(2.5)
        else:
            model.lm_head.weight.mul_(8.0)
    fp16_exact(model)
    return model


@torch.no_grad()
def greedy(model, prompt, n):
    seq = list(prompt)
    margins = []
    for _ in range(n):
        logits = model(torch.tensor([seq])).logits[0, -1].double()
        top = torch.topk(logits, 2)
        margins.append(float(top.values[0] - top.values[1]))
        seq.append(int(top.indices[0]))
    return seq[len(prompt):], min(margins)


def sample_positions(prompt_len, n):
    pos = {0, prompt_len // 2, prompt_len - 1}
    for k in (1, 4, 8, 16, n - 1):
        if k < n:
            pos.add(prompt_len - 1 + k)
    return sorted(pos)


@torch.no_grad()
def logits_at(model, seq, positions):
    out = model(torch.tensor([seq])).logits[0].float()
    return [[round(float(v), 5) for v in out[p]] for p in positions]


@torch.no_grad()
def reference_for(model, prompts):
    rows = []
    for prompt in prompts:
        tokens, margin = greedy(model, prompt, NEW_TOKENS)
        positions = sample_positions(len(prompt), NEW_TOKENS)
        rows.append({"prompt": prompt, "greedy": tokens, "min_margin": round(margin, 5),
                     "logit_positions": positions,
                     "logits": logits_at(model, prompt + tokens, positions)})
    return rows


@torch.no_grad()
def fp16_gap(model, rows):
    """HF's own gap between its fp16 CUDA forward and the fp32 reference: the scale of error
    that fp16 storage brings, for the tolerance of the C# tests."""
    if not torch.cuda.is_available():
        return None
    m16 = copy.deepcopy(model).half().cuda().eval()
    worst = 0.0
    for row in rows:
        seq = row["prompt"] + row["greedy"]
        out = m16(torch.tensor([seq]).cuda()).logits[0].float().cpu()
        for p, ref in zip(row["logit_positions"], row["logits"]):
            worst = max(worst, float((out[p] - torch.tensor(ref)).abs().max()))
    return round(worst, 5)


def choose_prompts(models, vocab, seed):
    """Keeps the candidate prompts whose greedy continuations stay furthest from a near-tie,
    under the base model and under every adapter."""
    rng = random.Random(seed)
    lengths = [3, 5, 9, 17, 31, 48, 64, 7, 12, 21, 40, 2, 26, 55]
    scored = []
    for i in range(CANDIDATE_PROMPTS):
        prompt = [1] + [rng.randrange(4, vocab) for _ in range(lengths[i % len(lengths)] - 1)]
        margin = min(greedy(m, prompt, NEW_TOKENS)[1] for m in models)
        scored.append((margin, i, prompt))
    scored.sort(key=lambda t: (-t[0], t[1]))
    kept = sorted(scored[:KEPT_PROMPTS], key=lambda t: t[1])
    return [p for _, _, p in kept]


def randomize_lora(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_A" in n:
                p.copy_(torch.randn(p.shape, generator=gen) / p.shape[1] ** 0.5)
            elif "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.1 / p.shape[1] ** 0.5)


def make_adapter(base, name, spec, folder, seed, as_fp16):
    model = get_peft_model(copy.deepcopy(base), LoraConfig(init_lora_weights=False, **spec))
    randomize_lora(model, seed)
    fp16_exact(model)
    model.save_pretrained(folder)
    path = os.path.join(folder, "adapter_model.safetensors")
    if as_fp16:
        tensors = load_file(path)
        save_file({k: v.half().contiguous() for k, v in tensors.items()}, path)
    # The reference is computed from the adapter as it lies on disk.
    reloaded = PeftModel.from_pretrained(copy.deepcopy(base), folder).float().eval()
    return reloaded


def build(out, name, spec, seed):
    model_dir = os.path.join(out, "models", name)
    os.makedirs(model_dir, exist_ok=True)
    base = make_base(name, spec, seed)
    if name == "llama-tied":
        base.half().save_pretrained(model_dir, max_shard_size="150KB")
        tok = train_sentencepiece(model_dir)
    else:
        base.half().save_pretrained(model_dir)
        tok = train_bpe(model_dir)
    base.float().eval()

    adapters = {}
    for i, (aname, aspec) in enumerate(ADAPTERS.get(name, {}).items()):
        adir = os.path.join(out, "adapters", name, aname)
        os.makedirs(adir, exist_ok=True)
        adapters[aname] = make_adapter(base, aname, aspec, adir, seed * 100 + i, as_fp16=(i % 2 == 0))
        os.remove(os.path.join(adir, "README.md"))

    prompts = choose_prompts([base, *adapters.values()], spec["vocab_size"], seed)
    rows = reference_for(base, prompts)
    ref = {"model": name, "new_tokens": NEW_TOKENS, "base": rows,
           "hf_fp16_max_abs_logit_gap": fp16_gap(base, rows), "adapters": {}}

    for aname, peft_model in adapters.items():
        arows = reference_for(peft_model, prompts)
        changed = sum(r["greedy"] != b["greedy"] for r, b in zip(arows, rows))
        ref["adapters"][aname] = {"rows": arows, "prompts_changed_vs_base": changed,
                                  "hf_fp16_max_abs_logit_gap": fp16_gap(peft_model, arows)}
        print(f"  adapter {name}/{aname}: greedy differs from base on {changed}/{len(rows)} prompts, "
              f"min margin {min(r['min_margin'] for r in arows):.4f}", flush=True)
    ref["environment"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                          "peft": peft.__version__, "python": platform.python_version()}
    os.makedirs(os.path.join(out, "reference"), exist_ok=True)
    with open(os.path.join(out, "reference", f"{name}.json"), "w") as f:
        json.dump(ref, f)
    print(f"{name}: {len(rows)} prompts, min margin {min(r['min_margin'] for r in rows):.4f}, "
          f"hf fp16 gap {ref['hf_fp16_max_abs_logit_gap']}", flush=True)
    return tok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/fixtures")
    args = ap.parse_args()
    torch.set_num_threads(4)
    torch.backends.cuda.matmul.allow_tf32 = False
    tokenizers = {}
    for i, (name, spec) in enumerate(MODELS.items()):
        tokenizers[name] = build(args.out, name, spec, seed=1234 + i)
    with open(os.path.join(args.out, "reference", "tokenizers.json"), "w") as f:
        json.dump(tokenizers, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
