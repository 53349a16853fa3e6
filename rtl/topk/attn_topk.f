rtl/topk/attn_topk_compact.sv
rtl/topk/attn_topk_pack.sv
rtl/topk/attn_topk.sv
