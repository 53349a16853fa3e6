// The pattern families tilesim ships, one per file; the registry in pattern.cc lists them.
#pragma once

#include "sim/gpu/patterns/pattern.h"

namespace attnsim::gpu {

const PatternFamily& dense_family();
const PatternFamily& causal_family();
const PatternFamily& sliding_window_family();
const PatternFamily& gna_family();
const PatternFamily& causal_window_family();
const PatternFamily& band_family();
const PatternFamily& a_shape_family();
const PatternFamily& vertical_slash_family();
const PatternFamily& block_topk_family();
const PatternFamily& permuted_block_sparse_family();
const PatternFamily& radial_family();
const PatternFamily& random_family();
const PatternFamily& mixture_family();
const PatternFamily& document_family();
const PatternFamily& prefix_lm_family();

}  // namespace attnsim::gpu
