#!/usr/bin/python3
"""Capture an attention trace (traces/README.md, format version 1) from a PyTorch model by hooking
its attention modules: per layer and head, Q, K and V as the attention sees them.

Supported modules (found by structure, so Hugging Face classes and look-alikes both work):
  * GPT-2 style: a module with a fused `c_attn` projection (output [B, T, 3 * hidden]) and
    `num_heads` (or `n_head`): q, k, v are the three thirds, split into heads.
  * BERT style: a module with `query`, `key`, `value` linear layers and `num_attention_heads`.
  * torch.nn.MultiheadAttention: q, k, v recomputed from its inputs and in-projection weights.

Usage as a tool (a real model whose weights are available locally, through `transformers`):
    capture_attention.py --model gpt2 --text "..." --out trace.npz [--prompt-tokens N]
or from Python: `trace = capture(model, run, causal=True, prompt_tokens=N); save_trace(path, trace)`.
torch is imported lazily, so this module imports without it.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1


def _heads_first(x, heads: int):
    """[B, T, heads * d] -> [heads, T, d] for batch element 0."""
    b, t, width = x.shape
    return x[0].reshape(t, heads, width // heads).permute(1, 0, 2)


class _Recorder:
    """Holds the hooks and what they saw, one entry per attention module in model order."""

    def __init__(self):
        self.layers: list[dict] = []
        self.handles = []

    def slot(self, index: int) -> dict:
        while len(self.layers) <= index:
            self.layers.append({})
        return self.layers[index]

    def remove(self):
        for h in self.handles:
            h.remove()


def _attach(model, recorder: _Recorder) -> int:
    import torch

    index = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.MultiheadAttention):
            _attach_mha(module, recorder, index)
        elif hasattr(module, "c_attn") and (hasattr(module, "num_heads") or
                                            hasattr(module, "n_head")):
            if getattr(module, "is_cross_attention", False):
                continue  # cross-attention has no self-attention trace
            _attach_gpt2(module, recorder, index)
        elif all(hasattr(module, a) for a in ("query", "key", "value", "num_attention_heads")):
            _attach_bert(module, recorder, index)
        else:
            continue
        index += 1
    return index


def _attach_gpt2(module, recorder, index):
    heads = getattr(module, "num_heads", None) or module.n_head

    def hook(_mod, _inputs, output):
        q, k, v = output.detach().float().chunk(3, dim=-1)
        slot = recorder.slot(index)
        slot["q"], slot["k"], slot["v"] = (_heads_first(x, heads) for x in (q, k, v))

    recorder.handles.append(module.c_attn.register_forward_hook(hook))


def _attach_bert(module, recorder, index):
    heads = module.num_attention_heads
    for part in ("query", "key", "value"):
        def hook(_mod, _inputs, output, part=part):
            recorder.slot(index)[part[0]] = _heads_first(output.detach().float(), heads)
        recorder.handles.append(getattr(module, part).register_forward_hook(hook))


def _attach_mha(module, recorder, index):
    import torch.nn.functional as F

    def hook(mod, args, kwargs):
        query = kwargs.get("query", args[0] if len(args) > 0 else None)
        key = kwargs.get("key", args[1] if len(args) > 1 else None)
        value = kwargs.get("value", args[2] if len(args) > 2 else None)
        if not mod.batch_first:  # [T, B, E] -> [B, T, E]
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        e = mod.embed_dim
        if mod.in_proj_weight is not None:
            wq, wk, wv = mod.in_proj_weight.split(e)
        else:
            wq, wk, wv = mod.q_proj_weight, mod.k_proj_weight, mod.v_proj_weight
        bq = bk = bv = None
        if mod.in_proj_bias is not None:
            bq, bk, bv = mod.in_proj_bias.split(e)
        slot = recorder.slot(index)
        for part, x, w, b in (("q", query, wq, bq), ("k", key, wk, bk), ("v", value, wv, bv)):
            slot[part] = _heads_first(F.linear(x, w, b).detach().float(), mod.num_heads)

    recorder.handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))


def capture(model, run, causal: bool, prompt_tokens: int | None = None) -> dict:
    """Runs `run()` (which calls the model once on a batch whose element 0 is traced) with hooks
    on every attention module; returns the trace's arrays (numpy, float32)."""
    import torch

    recorder = _Recorder()
    try:
        if _attach(model, recorder) == 0:
            raise ValueError("no attention module found (GPT-2 c_attn, BERT query/key/value, or "
                             "nn.MultiheadAttention)")
        with torch.no_grad():
            run()
    finally:
        recorder.remove()
    missing = [i for i, s in enumerate(recorder.layers) if set(s) != {"q", "k", "v"}]
    if missing or not recorder.layers:
        raise ValueError(f"attention modules {missing} were not called by run()")
    arrays = {part: np.stack([s[part].cpu().numpy() for s in recorder.layers]).astype(np.float32)
              for part in ("q", "k", "v")}
    tokens = arrays["q"].shape[2]
    if prompt_tokens is None:
        prompt_tokens = tokens
    if not 1 <= prompt_tokens <= tokens:
        raise ValueError(f"prompt_tokens must be in [1, {tokens}], got {prompt_tokens}")
    for part, a in arrays.items():
        if not np.isfinite(a).all():
            raise ValueError(f"captured {part} holds NaN or Inf")
    return {"format_version": np.int64(FORMAT_VERSION), **arrays, "causal": np.bool_(causal),
            "prompt_tokens": np.int64(prompt_tokens)}


def save_trace(path, trace: dict) -> None:
    """Writes the trace atomically: a temporary sibling renamed into place."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}.npz")
    try:
        np.savez_compressed(tmp, **trace)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True,
                        help="Hugging Face model name or local folder (loaded offline)")
    parser.add_argument("--text", required=True, help="input text")
    parser.add_argument("--out", required=True, type=Path, help="trace to write (.npz)")
    parser.add_argument("--prompt-tokens", type=int,
                        help="causal models: tokens treated as the prompt (default: all)")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as error:
        print(f"capture_attention: error: needs torch and transformers ({error})", file=sys.stderr)
        return 2
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(args.model, local_files_only=True)
        model = transformers.AutoModel.from_pretrained(args.model, local_files_only=True).eval()
    except OSError as error:
        print(f"capture_attention: error: {args.model}: weights not available locally ({error})",
              file=sys.stderr)
        return 2
    batch = tokenizer(args.text, return_tensors="pt")
    causal = bool(getattr(model.config, "is_decoder", False) or
                  model.config.model_type in ("gpt2", "gpt_neo", "gptj", "opt", "llama"))
    try:
        trace = capture(model, lambda: model(**batch), causal, args.prompt_tokens)
    except ValueError as error:
        print(f"capture_attention: error: {error}", file=sys.stderr)
        return 2
    save_trace(args.out, trace)
    layers, heads, tokens, dim = trace["q"].shape
    print(f"{args.out}: {layers} layers x {heads} heads x {tokens} tokens x {dim} dims")
    return 0


if __name__ == "__main__":
    sys.exit(main())
