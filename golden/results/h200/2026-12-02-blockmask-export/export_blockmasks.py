# Run on the H200 (torch 2.11, CUDA), from the repository root: python3 THIS_FILE OUT_DIR.
# Exports real create_block_mask objects with attnsim.gpu.blockmask_arrays (issue #14): CUDA
# int32 tensors, BLOCK_SIZE and seq_lengths as tuples of ints.
import sys
import numpy as np
import torch
from torch.nn.attention.flex_attention import create_block_mask
sys.path.insert(0, "scripts/python")
from attnsim.gpu import blockmask_arrays  # noqa: E402

out = sys.argv[1]
def causal(b, h, q, k):
    return q >= k
bm = create_block_mask(causal, B=None, H=None, Q_LEN=4096, KV_LEN=4096, device="cuda")
print("types:", type(bm.BLOCK_SIZE), bm.BLOCK_SIZE, type(bm.seq_lengths), bm.seq_lengths,
      bm.kv_num_blocks.device, bm.kv_num_blocks.dtype)
np.savez(f"{out}/causal4096.npz", **blockmask_arrays(bm))
doc = torch.repeat_interleave(torch.arange(3, device="cuda"),
                              torch.tensor([1000, 2000, 1096], device="cuda"))
def document(b, h, q, k):
    return (doc[q] == doc[k]) & (q >= k)
np.savez(f"{out}/document4096.npz",
         **blockmask_arrays(create_block_mask(document, B=2, H=4, Q_LEN=4096, KV_LEN=4096,
                                              device="cuda")))
np.savez(f"{out}/causal3000.npz",
         **blockmask_arrays(create_block_mask(causal, B=None, H=None, Q_LEN=3000, KV_LEN=3000,
                                              device="cuda")))
print("written")
