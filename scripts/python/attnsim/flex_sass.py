"""FlexAttention's compiled mask code, counted in SASS instructions per rule (issue #12).

What a token rule costs FlexAttention is the code inductor and Triton generate for its mask_mod
inside the kernel's masked (partial-block) loop. This tool compiles `flex_attention` on the GPU
for a list of rules (mask_rules.md; the same mask_mods torch_attention_bench.py times), finds each
forward kernel's cubin in a private Triton cache, disassembles it (`cuobjdump -sass`) and
counts the instructions of every loop. The masked loop of a rule's kernel minus the same loop of
the `allow` kernel is the rule's own code per loop iteration and thread; divided by the scores
each thread holds (tile_q x tile_kv / threads) it is the rule's instructions per element, the
figure sim/gpu/cost_model.cc's op counts stand for.

    python3 -m attnsim.flex_sass --out DIR [--head-dim 64,128]   # on a CUDA machine

writes DIR/flex_sass.json (per rule and head dim: the kernel, its loops with their opcode counts)
and DIR/sass.tar.gz (the disassembly). Needs torch with flex_attention, a GPU and cuobjdump.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from attnsim import mask_rules

# (rule, sequence length): every rule family of mask_rules.md, and the parameters whose code
# differs (dilation, non-power-of-two extents, 3-D, causal/non-causal documents, unaligned).
VARIANTS = [
    ("allow", 16384), ("causal", 16384), ("causal_window,window=1000", 16384),
    ("band,left=700,right=700", 16384), ("prefix_lm,prefix=3001", 16384),
    ("a_shape,sinks=128,window=2000", 16384),
    ("document,causal=1,lengths=4000x4000x8384", 16384),
    ("document,causal=0,lengths=4000x4000x8384", 16384),
    ("sliding_window,window=1025", 16384), ("sliding_window,window=1025,dilation=2", 16384),
    ("sliding_window,window=1001,dilation=3", 16384),
    ("sliding_window,window=2049,dilation=4", 16384),
    ("sliding_window,window=255,dilation=3,stride=5", 16384),
    ("sliding_window,window=1025,stride=4", 16384),
    ("gna,dims=128x128,window=21", 16384), ("gna,dims=128x128,window=21,dilation=2", 16384),
    ("gna,dims=128x128,window=33,stride=4", 16384), ("gna,dims=96x96,window=21", 9216),
    ("gna,dims=80x128,window=21", 10240), ("gna,dims=64x256,window=21x41", 16384),
    ("gna,dims=16x32x32,window=7x11x11", 16384),
    ("gna,dims=16x32x32,window=7x11x11,dilation=1x2x2", 16384),
    ("gna,dims=24x24x16,window=7", 9216), ("gna,dims=32x32x64,window=9x9x13", 65536),
    # unaligned lengths: Triton's IS_DIVISIBLE=False variant
    ("allow", 10000), ("causal", 10000), ("gna,dims=100x100,window=25", 10000),
]

LINE = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;")
LABEL = re.compile(r"^\s*(\.L_x_\d+):")


def parse_sass(text: str) -> list[dict]:
    """Functions of a `cuobjdump -sass` listing: name, instructions (address, text) and loops
    (backward branches: [target, branch], instruction count, opcode counts)."""
    functions, current, pending_labels, labels = [], None, [], {}
    for line in text.splitlines():
        header = re.match(r"^\s*\.text\.(\S+):", line)  # nvdisasm's function sections
        if "Function :" in line or header:
            name = header.group(1) if header else line.split("Function :")[1].strip()
            current = {"name": name, "instructions": []}
            functions.append(current)
            labels, pending_labels = {}, []
            current["labels"] = labels
            continue
        if current is None:
            continue
        label = LABEL.match(line)
        if label:
            pending_labels.append(label.group(1))
            continue
        match = LINE.search(line)
        if match:
            address = int(match.group(1), 16)
            for name in pending_labels:
                labels[name] = address
            pending_labels = []
            current["instructions"].append((address, match.group(2).strip()))
    for function in functions:
        loops = []
        instructions = function["instructions"]
        for address, text in instructions:
            op = opcode(text)
            if not op.startswith("BRA"):
                continue
            target = branch_target(text, function["labels"])
            if target is not None and target < address:
                body = [t for a, t in instructions if target <= a <= address]
                loops.append({"start": target, "end": address, "instructions": len(body),
                              "opcodes": dict(collections.Counter(opcode(t) for t in body))})
        function["loops"] = sorted(loops, key=lambda loop: -loop["instructions"])
        function["total_instructions"] = len(instructions)
        del function["labels"]
    return functions


def opcode(text: str) -> str:
    words = text.split()
    if words and words[0].startswith("@"):
        words = words[1:]
    return words[0] if words else ""


def branch_target(text: str, labels: dict) -> int | None:
    label = re.search(r"\(?(\.L_x_\d+)\)?", text)
    if label:
        return labels.get(label.group(1))
    hexaddr = re.search(r"BRA[^0-9]*(0x[0-9a-f]+)", text)
    return int(hexaddr.group(1), 16) if hexaddr else None


def cubins(root: Path) -> set[Path]:
    """Every cubin under the private caches (inductor keeps Triton's cache inside its own)."""
    return set(root.rglob("*.cubin"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--head-dim", default="64,128")
    args = parser.parse_args(argv)
    head_dims = [int(x) for x in args.head_dim.split(",")]
    disassembler = next((tool for tool in (shutil.which("cuobjdump"),
                                           "/usr/local/cuda/bin/cuobjdump",
                                           shutil.which("nvdisasm"), "/usr/local/cuda/bin/nvdisasm")
                         if tool and os.path.exists(tool)), None)
    if disassembler is None:
        print("flex_sass: error: needs cuobjdump or nvdisasm (CUDA toolkit)", file=sys.stderr)
        return 2
    disassemble = [disassembler, "-sass"] if "cuobjdump" in disassembler else [disassembler, "-c"]
    scratch = Path(tempfile.mkdtemp(prefix="flex-sass-"))
    # A private, empty cache: every kernel is compiled here, and its cubin is found by name.
    os.environ["TRITON_CACHE_DIR"] = str(scratch / "triton")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(scratch / "inductor")
    os.environ["TORCHINDUCTOR_FORCE_DISABLE_CACHES"] = "1"
    os.environ["TORCHINDUCTOR_COMPILE_THREADS"] = "1"
    import torch
    from torch.nn.attention.flex_attention import BlockMask, flex_attention
    for key in ("cache_size_limit", "recompile_limit"):
        if hasattr(torch._dynamo.config, key):
            setattr(torch._dynamo.config, key, 4096)
    flex = torch.compile(flex_attention, dynamic=False)
    args.out.mkdir(parents=True, exist_ok=True)
    sass_dir = scratch / "sass"
    sass_dir.mkdir()
    results = []
    for head_dim in head_dims:
        for rule_text, seq in VARIANTS:
            rule = mask_rules.parse_rule(rule_text)
            geometry = mask_rules.Geometry(seq, seq, 1, 1, 128)
            mask_mod = mask_rules.predicate(rule, geometry, xp=torch, device="cuda")
            nk = -(-seq // 128)
            # Every block partial: the kernel's code does not depend on the lists.
            num = torch.full((1, 1, nk), nk, dtype=torch.int32, device="cuda")
            idx = torch.arange(nk, dtype=torch.int32, device="cuda").expand(1, 1, nk, nk)
            zero = torch.zeros((1, 1, nk), dtype=torch.int32, device="cuda")
            block_mask = BlockMask.from_kv_blocks(num, idx.contiguous(), zero,
                                                  torch.zeros_like(idx).contiguous(),
                                                  BLOCK_SIZE=128, mask_mod=mask_mod,
                                                  seq_lengths=(seq, seq))
            q, k, v = (torch.randn((1, 1, seq, head_dim), device="cuda", dtype=torch.bfloat16)
                       for _ in range(3))
            before = cubins(scratch)
            flex(q, k, v, block_mask=block_mask)
            torch.cuda.synchronize()
            new = sorted(cubins(scratch) - before)
            entry = {"rule": rule.text(), "seq": seq, "head_dim": head_dim, "kernels": []}
            for path in new:
                listing = subprocess.run([*disassemble, str(path)], capture_output=True,
                                         text=True).stdout
                tag = f"d{head_dim}-{rule.name}-{len(results):03d}-{path.stem}.sass"
                (sass_dir / tag).write_text(listing)
                for function in parse_sass(listing):
                    entry["kernels"].append({
                        "cubin": path.name, "function": function["name"],
                        "total_instructions": function["total_instructions"],
                        "loops": function["loops"], "sass": tag})
            results.append(entry)
            loops = [[lp["instructions"] for lp in kern["loops"][:3]] for kern in entry["kernels"]]
            print(f"d{head_dim} {rule.text():60} S={seq}: {len(new)} cubins, loops {loops}",
                  flush=True)
            # Written after every variant: a run cut short keeps what it counted.
            tmp = args.out / "flex_sass.json.tmp"
            tmp.write_text(json.dumps({"torch": torch.__version__,
                                       "device": torch.cuda.get_device_name(0),
                                       "variants": results}, indent=1))
            os.replace(tmp, args.out / "flex_sass.json")
    with tarfile.open(args.out / "sass.tar.gz", "w:gz") as tar:
        tar.add(sass_dir, arcname="sass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
