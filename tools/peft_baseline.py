#!/usr/bin/env python3
"""Hugging Face PEFT baseline for SLoRA.Grid's offline benchmark (docs/BENCHMARKS.md).

The same workload as `slora-bench` offline mode: a Llama-7B-shaped model with random fp16
weights, one LoRA adapter per request (rank 16 on q, k, v, o), batches of B requests with
prompts of `--input` tokens, `--output` new tokens each (EOS suppressed), greedy. PEFT serves a
mixed-adapter batch through `generate(..., adapter_names=[...])`. Also the base model alone
(adapters disabled), so the cost of LoRA in PEFT is visible too.

    python3 tools/peft_baseline.py --batches 1,8,32,64 --input 256 --output 128 --out peft.json
"""
import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="1,8,32,64")
    ap.add_argument("--input", type=int, default=256)
    ap.add_argument("--output", type=int, default=128)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--max-seconds", type=float, default=240, help="skip larger batches once this much time is spent")
    ap.add_argument("--out", default="peft.json")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]

    cfg = LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=32, vocab_size=32000, max_position_embeddings=4096, rms_norm_eps=1e-5,
                      bos_token_id=1, eos_token_id=2, pad_token_id=0)
    t0 = time.time()
    with torch.device("cuda"):
        model = LlamaForCausalLM(cfg).half()
    lora = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                      init_lora_weights=False)
    model = get_peft_model(model, lora, adapter_name="a0")
    for i in range(1, max(batches)):
        model.add_adapter(f"a{i}", lora)
    model.eval()
    print(f"[peft] model + {max(batches)} adapters ready in {time.time() - t0:.0f} s", flush=True)

    gen = torch.Generator(device="cuda").manual_seed(0)
    results = []
    spent = 0.0

    def run(batch, names):
        ids = torch.randint(3, cfg.vocab_size, (batch, args.input), device="cuda", generator=gen)
        mask = torch.ones_like(ids)
        kwargs = dict(input_ids=ids, attention_mask=mask, max_new_tokens=args.output, min_new_tokens=args.output,
                      do_sample=False, pad_token_id=0)
        torch.cuda.synchronize()
        start = time.time()
        with torch.no_grad():
            if names is None:
                with model.disable_adapter():
                    out = model.generate(**kwargs)
            else:
                out = model.generate(adapter_names=names, **kwargs)
        torch.cuda.synchronize()
        elapsed = time.time() - start
        assert out.shape[1] == args.input + args.output, out.shape
        return elapsed

    run(1, ["a0"])  # warm-up
    for batch in batches:
        if spent > args.max_seconds:
            print(f"[peft] skipping batch {batch}: time budget spent", flush=True)
            continue
        for mode in ("lora", "base"):
            names = [f"a{i}" for i in range(batch)] if mode == "lora" else None
            elapsed = run(batch, names)
            spent += elapsed
            tps = batch * args.output / elapsed
            results.append({"mode": mode, "batch": batch, "input_length": args.input, "output_length": args.output,
                            "seconds": elapsed, "output_tokens_per_second": tps})
            print(f"[peft] {mode} batch {batch}: {tps:.1f} tok/s ({elapsed:.1f} s)", flush=True)
            # Written after every run, so a run cut short by a time limit keeps what it measured.
            with open(args.out, "w") as f:
                json.dump({"torch": torch.__version__, "device": torch.cuda.get_device_name(), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
