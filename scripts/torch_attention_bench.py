#!/usr/bin/python3
"""Times PyTorch attention kernels on the GPU and writes tilesim's measurements format, like
bsattn-bench: FlexAttention (torch.compile'd flex_attention) on mask files, and SDPA (context only)
on dense or causal inline patterns. Needs torch >= 2.5 with CUDA (the H200 machine has torch 2.11).

    torch_attention_bench.py --kernel flexattention masks/*.npz --head-dim 64,128 --out flex.json
    torch_attention_bench.py --kernel sdpa pattern:dense,seq=16384,heads=32 --out sdpa.json

    torch_attention_bench.py --kernel flexattention --cases DATASET/cases.json --head-dim 64 \
        --out flex-d64.json --time-budget-s 500 --resume

Mask files are tilesim's: FlexAttention's BlockMask layout (kv_num_blocks, kv_indices,
full_kv_num_blocks, full_kv_indices, BLOCK_SIZE, seq_lengths, optional allowed_pairs and `rule`) or
the dense block layout (full, partial). PARTIAL blocks apply the file's token rule (mask_rules.md,
attnsim.mask_rules) as the mask_mod; without one, `allow`: a mask_mod that compares positions but
keeps every key (the masked path's cost is paid). `--rule` overrides the file's rule.

Where the blocks are the rule's own classification (token-level families), the BlockMask is built
as users do, `create_block_mask(mask_mod, B, 1, Q, KV, BLOCK_SIZE=128)`, and compared with the
file's lists (`block_mask_matches_tilesim` in each run's info); otherwise (block-level families,
`allow`) it is `BlockMask.from_kv_blocks` of the file's lists with the rule's mask_mod.
`--gqa G` (or a case's `gqa`) gives K/V heads/G heads (enable_gqa). Exit status 2 on bad input
or without torch/CUDA.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))
from attnsim import mask_rules  # noqa: E402


class BenchInputError(ValueError):
    """A mask or argument that cannot be measured."""


def block_lists(path: Path) -> dict:
    """BlockMask lists (numpy int32) and geometry of a tilesim mask file."""
    try:
        z = np.load(path)
    except (OSError, ValueError) as error:
        raise BenchInputError(f"{path}: not a readable .npz: {error}") from None
    files = set(z.files)
    if {"kv_num_blocks", "kv_indices"} <= files:
        lists = {k: z[k].astype(np.int32) for k in ("kv_num_blocks", "kv_indices")}
        for k in ("full_kv_num_blocks", "full_kv_indices"):
            lists[k] = z[k].astype(np.int32) if k in files else np.zeros_like(
                lists[k.removeprefix("full_")])
        block = tuple(int(x) for x in z["BLOCK_SIZE"]) if "BLOCK_SIZE" in files else (128, 128)
    elif "full" in files or "partial" in files:
        full = z["full"].astype(bool) if "full" in files else None
        partial = z["partial"].astype(bool) if "partial" in files else np.zeros_like(full)
        full = np.zeros_like(partial) if full is None else full
        if full.ndim == 3:
            full, partial = full[None], partial[None]
        nk = full.shape[-1]

        def to_lists(dense):
            num = dense.sum(-1).astype(np.int32)
            order = np.argsort(~dense, axis=-1, kind="stable").astype(np.int32)
            return num, np.where(np.arange(nk) < num[..., None], order, 0).astype(np.int32)

        lists = dict(zip(("kv_num_blocks", "kv_indices"), to_lists(partial)))
        lists.update(zip(("full_kv_num_blocks", "full_kv_indices"), to_lists(full)))
        block = (int(z["block_q"]) if "block_q" in files else 128,
                 int(z["block_kv"]) if "block_kv" in files else 128)
    else:
        raise BenchInputError(f"{path}: expected BlockMask arrays (kv_num_blocks, kv_indices) or "
                              f"a dense block layout (full, partial); found {sorted(files)}")
    batch, heads, nq = lists["kv_num_blocks"].shape
    if "seq_lengths" in files:
        seq_q, seq_kv = (int(x) for x in z["seq_lengths"])
    else:
        seq_q, seq_kv = nq * block[0], lists["kv_indices"].shape[-1] * block[1]
    pairs = int(z["allowed_pairs"].sum()) if "allowed_pairs" in files else None
    rule = None
    if "rule" in files:
        value = z["rule"]
        if value.ndim != 0 or value.dtype.kind not in "US":
            raise BenchInputError(f"{path}: field 'rule': expected a 0-d string array, got "
                                  f"dtype {value.dtype} shape {value.shape}")
        rule = str(value[()])
    return {"lists": lists, "block": block, "batch": batch, "heads": heads, "seq_q": seq_q,
            "seq_kv": seq_kv, "allowed_pairs": pairs, "file_rule": rule}


def resolve_rule(p: dict, source: str, override: str | None = None, gqa: int = 1,
                 block_source: str = "auto") -> dict:
    """Checks the rule (the file's, or `override`) and GQA against the mask's geometry: adds
    `rule` (a mask_rules.Rule), `rule_text` (canonical), `gqa`, `kv_heads`, `block_source`."""
    text = override if override is not None else (p.get("file_rule") or "allow")
    field = "--rule" if override is not None else "rule"
    try:
        rule = mask_rules.parse_rule(text)
        geometry = mask_rules.Geometry(p["seq_q"], p["seq_kv"], p["batch"], p["heads"],
                                       p["block"][0])
        if rule.name != "custom":
            mask_rules.predicate(rule, geometry)  # checks parameters against the geometry
    except mask_rules.RuleError as error:
        raise BenchInputError(f"{source}: field '{field}': {error}") from None
    if gqa < 1 or p["heads"] % gqa:
        raise BenchInputError(f"{source}: field 'gqa': {gqa} does not divide heads {p['heads']}")
    if block_source not in ("auto", "rule", "file"):
        raise BenchInputError(f"{source}: field 'block_source': expected auto, rule or file, "
                              f"got {block_source!r}")
    if block_source == "rule" and rule.name in ("allow", "custom"):
        raise BenchInputError(f"{source}: field 'block_source': 'rule' needs a token rule, "
                              f"the rule is {rule.name}")
    return {**p, "rule": rule, "rule_text": rule.text(), "gqa": gqa,
            "kv_heads": p["heads"] // gqa, "block_source": block_source}


def read_cases(path: Path) -> list[dict]:
    """Cases of a dataset's cases.json: mask path (relative to the file), gqa, block_source."""
    try:
        cases = json.loads(path.read_text())["cases"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BenchInputError(f"{path}: not a cases.json with a 'cases' list: {error}") from None
    out = []
    for i, case in enumerate(cases):
        if not isinstance(case, dict) or "mask" not in case:
            raise BenchInputError(f"{path}: case {i}: field 'mask' missing")
        gqa = case.get("gqa", 1)
        if not isinstance(gqa, int):
            raise BenchInputError(f"{path}: case {i}: field 'gqa': expected an integer")
        out.append({"name": case.get("name", Path(case["mask"]).stem),
                    "mask": str(path.parent / case["mask"]), "gqa": gqa,
                    "block_source": case.get("block_source", "auto"),
                    "head_dims": case.get("head_dims")})
    return out


def parse_inline(pattern: str) -> dict:
    """pattern:dense|causal,seq=S,heads=H[,batch=B] (the subset of tilesim's syntax SDPA runs)."""
    name, *params = pattern.removeprefix("pattern:").split(",")
    values = dict(p.split("=", 1) for p in params if "=" in p)
    if name not in ("dense", "causal") or "seq" not in values:
        raise BenchInputError(f"{pattern}: SDPA runs pattern:dense or pattern:causal with seq=")
    seq, heads, batch = int(values["seq"]), int(values.get("heads", 1)), int(values.get("batch", 1))
    pairs = seq * seq if name == "dense" else seq * (seq + 1) // 2
    return {"causal": name == "causal", "batch": batch, "heads": heads, "seq_q": seq,
            "seq_kv": seq, "allowed_pairs": pairs * batch * heads}


# Each timed sample covers back-to-back calls worth at least this much GPU time, so host dispatch
# gaps (Python, torch.compile guards) stay out of sub-millisecond measurements.
SAMPLE_TARGET_MS = 2.0


# Each run's warm-up lasts at least this long: a GPU idle before the run starts at a low clock
# (345 MHz on the H200) and needs some milliseconds of work to reach its boost clock.
WARMUP_MIN_MS = 100.0


def time_ms(torch, call, warmup: int, reps: int) -> tuple[list[float], int]:
    """Per-call times of `reps` samples, and the calls per sample."""
    started = time.perf_counter()
    done = 0
    while done < warmup or (time.perf_counter() - started) * 1e3 < WARMUP_MIN_MS:
        call()
        done += 1
        if done % 8 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    call()
    stop.record()
    stop.synchronize()
    calls = max(1, min(200, int(SAMPLE_TARGET_MS / max(start.elapsed_time(stop), 1e-3)) + 1))
    times = []
    for _ in range(reps):
        start.record()
        for _ in range(calls):
            call()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / calls)
    return times, calls


def compare_block_masks(file_lists: dict, torch_lists: dict, seq_q: int, seq_kv: int,
                        block: int) -> dict:
    """Rows (b, h, q block) where FlexAttention's create_block_mask and the file disagree on any
    block's class. tilesim pads to whole blocks as create_block_mask does (a block clipped by a
    sequence end is PARTIAL), so every difference is a mismatch."""
    nk = -(-seq_kv // block)
    nq = -(-seq_q // block)
    cf = mask_rules.classes_from_lists(file_lists, nk)
    ct = mask_rules.classes_from_lists(torch_lists, nk)[:, :, :nq]
    shape = np.broadcast_shapes(cf.shape, ct.shape)
    differ = np.broadcast_to(cf, shape) != np.broadcast_to(ct, shape)
    return {"block_mask_matches_tilesim": not bool(differ.any()),
            "block_mask_mismatch_rows": int(differ.any(-1).sum())}


def write_result(path: Path | None, result: dict) -> None:
    if path is None:
        return
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, path)


def parse_head_dims(text: str) -> list[int]:
    try:
        dims = [int(d) for d in text.split(",")]
    except ValueError:
        raise BenchInputError(f"--head-dim: expected comma-separated integers, got {text!r}") \
            from None
    if not dims or any(d not in (64, 128) for d in dims):
        raise BenchInputError(f"--head-dim: 64 and/or 128, got {text!r}")
    return dims


def plan(args) -> list[dict]:
    """Every (problem, head dim) to run, checked before torch is touched."""
    head_dims = parse_head_dims(args.head_dim)
    if args.kernel == "sdpa":
        if args.cases:
            raise BenchInputError("--cases: FlexAttention only")
        problems = [(m, parse_inline(m), None) for m in args.masks]
        return [{"label": m, "p": p, "head_dim": d} for d in head_dims for m, p, _ in problems]
    entries = []
    if args.cases:
        for case in read_cases(args.cases):
            entries.append((case["mask"], case))
    entries += [(m, {"gqa": None, "block_source": None, "head_dims": None}) for m in args.masks]
    if not entries:
        raise BenchInputError("no masks: give mask files or --cases")
    problems = []
    for mask, case in entries:
        p = block_lists(Path(mask))
        gqa = args.gqa if args.gqa is not None else (case["gqa"] or 1)
        source = args.block_source or case["block_source"] or "auto"
        problems.append((mask, resolve_rule(p, mask, args.rule, gqa, source), case["head_dims"]))
    return [{"label": m, "p": p, "head_dim": d} for d in head_dims
            for m, p, dims in problems if dims is None or d in dims]


# create_block_mask is run eagerly (it materialises the S x S mask, and its compiled form costs
# 5-50 s of compilation per rule and shape on the H200); above this length the file's blocks are
# used unchecked. tilesim's classification is checked against brute force on the CPU too.
CHECK_BLOCKS_MAX_SEQ = 16384


def build_block_mask(torch, p: dict, flex_api: dict) -> tuple[object, dict]:
    """The BlockMask a run uses and what was found building it (see the module doc)."""
    BlockMask, create_block_mask = flex_api["BlockMask"], flex_api["create_block_mask"]
    rule, geometry = p["rule"], mask_rules.Geometry(p["seq_q"], p["seq_kv"], p["batch"],
                                                    p["heads"], p["block"][0])
    if rule.name == "custom":
        mask_mod = mask_rules.predicate("allow", geometry, xp=torch, device="cuda")
    else:
        mask_mod = mask_rules.predicate(rule, geometry, xp=torch, device="cuda")
    info = {"block_source": "file"}
    want_rule = p["block_source"] == "rule" or (
        p["block_source"] == "auto" and rule.name not in ("allow", "custom"))
    if want_rule and max(p["seq_q"], p["seq_kv"]) > CHECK_BLOCKS_MAX_SEQ:
        info["block_mask_checked"] = False  # see CHECK_BLOCKS_MAX_SEQ
        want_rule = False
    if want_rule:
        batch = p["batch"] if rule.depends_on_batch else 1
        started = time.perf_counter()
        try:
            kwargs = {"device": "cuda", "BLOCK_SIZE": p["block"][0]}
            created = create_block_mask(mask_mod, batch, 1, p["seq_q"], p["seq_kv"], **kwargs)
            torch.cuda.synchronize()
        except Exception as error:  # noqa: BLE001 (OOM, compile errors: fall back, say why)
            info["block_mask_error"] = f"{type(error).__name__}: {error}"[:500]
            print(f"WARNING: create_block_mask failed ({info['block_mask_error'][:200]}); "
                  f"using the file's blocks", flush=True)
            created = None
        info["block_mask_s"] = time.perf_counter() - started
        if created is not None:
            torch_lists = {k: getattr(created, k).cpu().numpy() for k in
                           ("kv_num_blocks", "kv_indices", "full_kv_num_blocks",
                            "full_kv_indices")}
            info.update(compare_block_masks(p["lists"], torch_lists, p["seq_q"], p["seq_kv"],
                                            p["block"][0]))
            selection = rule.name == "causal" and p["block_source"] == "auto" and \
                not info["block_mask_matches_tilesim"]
            if selection:  # a block selection with a causal diagonal (block-level family)
                info["block_source"] = "file"
            else:
                info["block_source"] = "rule"
                if not info["block_mask_matches_tilesim"]:
                    print(f"WARNING: !!! create_block_mask of rule '{p['rule_text']}' differs "
                          f"from the file's blocks in {info['block_mask_mismatch_rows']} rows "
                          f"!!!", flush=True)
                return created, info
    tensors = {k: torch.from_numpy(a).cuda() for k, a in p["lists"].items()}
    block_mask = BlockMask.from_kv_blocks(
        tensors["kv_num_blocks"], tensors["kv_indices"],
        tensors["full_kv_num_blocks"], tensors["full_kv_indices"],
        BLOCK_SIZE=p["block"], mask_mod=mask_mod, seq_lengths=(p["seq_q"], p["seq_kv"]))
    return block_mask, info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("masks", nargs="*", help="mask files (flexattention) or inline patterns")
    parser.add_argument("--kernel", choices=["flexattention", "sdpa"], default="flexattention")
    parser.add_argument("--cases", type=Path,
                        help="a dataset's cases.json: its masks, with per-case gqa, head dims "
                             "and block source")
    parser.add_argument("--rule", help="token rule of PARTIAL blocks for every mask (default: "
                                       "the file's `rule`, else allow)")
    parser.add_argument("--gqa", type=int, help="query heads per K/V head (default: the case's, "
                                                 "else 1)")
    parser.add_argument("--block-source", choices=["auto", "rule", "file"],
                        help="BlockMask from create_block_mask of the rule, or the file's lists "
                             "(default: the case's, else auto)")
    parser.add_argument("--head-dim", default="128", help="comma-separated: 64, 128")
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--matmul-reference", action="store_true",
                        help="also measure a bf16 8192^3 matmul: the TFLOP/s ceiling to compare with")
    parser.add_argument("--time-budget-s", type=float,
                        help="stop starting runs when this many seconds have passed (the output "
                             "holds every finished run)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs already in --out and skip them")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        todo = plan(args)
    except BenchInputError as error:
        print(f"torch_attention_bench: error: {error}", file=sys.stderr)
        return 2
    try:
        import torch
        from torch.nn.attention.flex_attention import BlockMask, create_block_mask, flex_attention
    except ImportError as error:
        print(f"torch_attention_bench: error: needs torch with flex_attention: {error}",
              file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("torch_attention_bench: error: no CUDA device", file=sys.stderr)
        return 2
    import inspect
    flex_api = {"BlockMask": BlockMask, "create_block_mask": create_block_mask,
                "create_params": set(inspect.signature(create_block_mask).parameters)}
    # Every case is a new shape and mask_mod: let dynamo recompile instead of falling back to
    # eager after its default 8 recompiles.
    for key in ("cache_size_limit", "recompile_limit", "accumulated_cache_size_limit",
                "accumulated_recompile_limit"):
        if hasattr(torch._dynamo.config, key):
            setattr(torch._dynamo.config, key, 4096)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    flex = torch.compile(flex_attention, dynamic=False)
    out_dir = (args.out.parent if args.out else Path.cwd()).resolve()
    props = torch.cuda.get_device_properties(0)
    device = {"name": props.name, "sm_count": props.multi_processor_count,
              "torch": torch.__version__, "cuda": torch.version.cuda}
    runs = []
    if args.resume and args.out and args.out.is_file():
        try:
            runs = json.loads(args.out.read_text())["runs"]
        except (ValueError, KeyError) as error:
            print(f"torch_attention_bench: error: --resume: {args.out}: {error}", file=sys.stderr)
            return 2
    done = {(r["mask"], r["head_dim"]) for r in runs}
    result = {"gpu": props.name.removeprefix("NVIDIA ").lower().replace(" ", "-"),
              "kernel": args.kernel, "device": device, "runs": runs}
    failed = []
    result["failed"] = failed
    stopped = None
    for count, item in enumerate(todo, 1):
        p, head_dim, mask = item["p"], item["head_dim"], item["label"]
        label = os.path.relpath(Path(mask).resolve(), out_dir) \
            if args.kernel == "flexattention" else mask
        if (label, head_dim) in done:
            continue
        elapsed = time.monotonic() - started
        if args.time_budget_s is not None and elapsed > args.time_budget_s:
            stopped = f"time budget {args.time_budget_s:.0f} s spent after {elapsed:.0f} s"
            break
        gen = torch.Generator(device="cuda").manual_seed(head_dim * 1000003 + p["seq_q"])
        kv_heads = p.get("kv_heads", p["heads"])
        q, k, v = (torch.rand((p["batch"], p["heads"] if i == 0 else kv_heads,
                               p["seq_q"] if i == 0 else p["seq_kv"], head_dim),
                              device="cuda", dtype=dtype, generator=gen) * 2 - 1
                   for i in range(3))
        extra, top = {}, {}
        try:
            if args.kernel == "flexattention":
                block_mask, extra = build_block_mask(torch, p, flex_api)
                gqa = p["gqa"] > 1
                call = lambda: flex(q, k, v, block_mask=block_mask, enable_gqa=gqa)  # noqa: E731
                top = {"rule": p["rule_text"], "gqa": p["gqa"]}
            else:
                call = lambda c=p["causal"]: torch.nn.functional.scaled_dot_product_attention(  # noqa: E731
                    q, k, v, is_causal=c)
            t0 = time.perf_counter()
            call()
            torch.cuda.synchronize()
            compile_s = time.perf_counter() - t0
            times, calls = time_ms(torch, call, args.warmup, args.reps)
        except Exception as error:  # noqa: BLE001 (one failing case must not lose the others)
            failed.append({"mask": label, "head_dim": head_dim,
                           "error": f"{type(error).__name__}: {error}"[:1000]})
            print(f"[{count}/{len(todo)}] FAILED {label} d{head_dim}: "
                  f"{failed[-1]['error'][:300]}", flush=True)
            torch.cuda.empty_cache()
            continue
        ms = statistics.median(times)
        pairs = p["allowed_pairs"]
        tflops = 4 * head_dim * pairs / ms / 1e9 if pairs else None
        runs.append({"mask": label, "ms": ms, "head_dim": head_dim, "dtype": args.dtype, **top,
                     "info": {"batch": p["batch"], "heads": p["heads"], "kv_heads": kv_heads,
                              "seq_q": p["seq_q"], "seq_kv": p["seq_kv"], "allowed_pairs": pairs,
                              "tflops": tflops, "ms_min": min(times), "ms_max": max(times),
                              "reps": args.reps, "calls_per_sample": calls,
                              "compile_s": compile_s, **extra, "ms_all": times}})
        print(f"[{count}/{len(todo)} {time.monotonic() - started:6.0f}s] {args.kernel:<14} "
              f"{label:<52} d{head_dim:<4} {ms:10.3f} ms"
              + (f" {tflops:8.1f} TFLOP/s" if tflops else "")
              + (f" compile {compile_s:5.1f}s" if args.kernel == "flexattention" else "")
              + ("" if extra.get("block_mask_matches_tilesim", True) else " BLOCKS DIFFER"),
              flush=True)
        if len(runs) % 20 == 0:
            write_result(args.out, result)
    if args.matmul_reference:
        n = 8192
        a, b = (torch.rand((n, n), device="cuda", dtype=torch.bfloat16) for _ in range(2))
        times, _ = time_ms(torch, lambda: a @ b, args.warmup, args.reps)
        device["bf16_matmul_8192_ms"] = statistics.median(times)
        device["bf16_matmul_tflops"] = 2 * n ** 3 / statistics.median(times) / 1e9
        print(f"bf16 matmul {n}^3: {device['bf16_matmul_tflops']:.1f} TFLOP/s", flush=True)
    if stopped:
        result["stopped"] = stopped
        print(f"torch_attention_bench: stopped: {stopped}; {len(runs)} runs written "
              f"(rerun with --resume to continue)", flush=True)
    write_result(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
