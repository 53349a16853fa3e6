// attn_topk: SpAtten's top-k engine. Selects the k largest of n signed scores by quick-select with
// an LFSR pivot, then streams out the selected indices in original order.
//
// Function (bit-exact with models/topk.h, topk_select): candidates start as the n input scores
// in input order, rank = k. Each pass over m candidates steps the 16-bit Galois LFSR
// (x^16 + x^14 + x^13 + x^11 + 1, taps 0xB400, reset state LfsrSeed; never reset between jobs)
// and takes candidate (lfsr * m) >> 16 as the pivot; the candidates greater and less than the
// pivot are written, in order, to two candidate buffers and the equal ones are counted (g, e).
// rank <= g: recurse on the greater side; rank <= g + e: the pivot is the threshold and
// q = rank - g; else rank -= g + e and recurse on the lesser side. The output pass re-reads the
// original buffer and keeps every score > threshold plus the first q scores == threshold.
//
// Interface:
//   in_*  : input stream of beats of Lanes (score, index) pairs, in_count_i valid lanes from lane 0.
//           Every beat of a job but the last carries exactly Lanes elements; the last carries
//           1..Lanes and has in_last_i set. k_i is sampled with the first beat of a job and must
//           satisfy 1 <= k <= n <= MaxN.
//   out_* : output stream of beats of up to Lanes selected indices (the in_index_i values of the
//           kept elements), in input order, out_count_o valid lanes from lane 0, out_last_o on the
//           job's final beat. ceil(k / Lanes) beats per job.
//   Rows of lanes are flat vectors, lane i at [i*W +: W] (the bit layout of [Lanes-1:0][W-1:0]).
//   perf_*: what the finished job did, for energy accounting (models::ActionCounts in elements):
//           comparisons, buffer element reads, buffer element writes. Valid from the job's final
//           output beat until the next job's first input beat.
// Protocol (AXI-Stream rules, both streams): a beat transfers in a cycle with valid && ready;
//   valid never waits for ready; while valid && !ready, valid stays high and the payload stays
//   stable. Assertions check the input obligations and the engine's own output obligations.
// Latency and throughput (cycle 0 = the first input beat's transfer; models/README.md "Top-k
//   engine" has the full table; models/topk_latency.h computes it):
//   load ceil(n / Lanes) beats, one per cycle; each pass ceil(m / Lanes) + 6 cycles (pivot index,
//   pivot read, one row per cycle, compare / zero-eliminate / pack stages, flush and decide).
//   Pipelined = 1 (models::TopkMicroarch::kPipelined): the first pass streams with the load (its
//   pivot is lane (lfsr * count) >> 16 of the first beat, and the beats enter the compare stage as
//   they arrive), so it ends 4 cycles after the last input beat; every later pass computes its
//   pivot index in the decide cycle and reads the pivot through a second port alongside its first
//   row: ceil(m / Lanes) + 4 cycles. Either way the output pass reads a row per cycle and a beat
//   leaves 4 cycles after the read of the row holding its last element, one beat per cycle. Each
//   load cycle without an input beat (pipelined: it delays the fused pass too) and each cycle with
//   out_valid_o && !out_ready_i (the output pass freezes) adds exactly one cycle. One job at a
//   time: in_ready_o is high only while loading, from the cycle after a job's final output beat.
//   Overlap = 1 (with Pipelined = 1; models::TopkMicroarch::kOverlapped): jobs overlap. The
//   original buffer has two banks; in the cycle a job decides, an output unit with its own
//   read / compare / zero-eliminate / pack stages takes it (its bank, n, k, threshold, q and
//   activity counts) and streams its output pass exactly as above, while in_ready_o rises in the
//   next cycle and the quick-select datapath loads the next job into the other bank. If the
//   output unit is still busy, the decided job waits (in_ready_o low) and moves over in the cycle
//   the previous job's final beat transfers. Output stalls then freeze only the output unit.
//   perf_*_o give the output unit's job, valid in the cycle of its final beat.
module attn_topk #(
  parameter int unsigned Lanes    = 16,      // P: comparators, and elements per beat
  parameter int unsigned ScoreW   = 32,      // signed score width
  parameter int unsigned IndexW   = 16,      // width of the carried index
  parameter int unsigned MaxN     = 4096,    // buffer capacity in elements
  parameter logic [15:0] LfsrSeed = 16'hACE1,
  parameter int unsigned Pipelined = 0,      // 1: fuse the first pass with the load (see above)
  parameter int unsigned Overlap  = 0,       // 1 (with Pipelined = 1): jobs overlap (see above)
  localparam int unsigned CountW  = $clog2(Lanes + 1),
  localparam int unsigned NW      = $clog2(MaxN + 1),
  localparam int unsigned PerfW   = 32
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,

  input  logic                      in_valid_i,
  output logic                      in_ready_o,
  input  logic [Lanes*ScoreW-1:0]   in_score_i,
  input  logic [Lanes*IndexW-1:0]   in_index_i,
  input  logic [CountW-1:0]         in_count_i,
  input  logic                      in_last_i,
  input  logic [NW-1:0]             k_i,

  output logic                      out_valid_o,
  input  logic                      out_ready_i,
  output logic [Lanes*IndexW-1:0]   out_index_o,
  output logic [CountW-1:0]         out_count_o,
  output logic                      out_last_o,

  output logic [PerfW-1:0]          perf_comparisons_o,
  output logic [PerfW-1:0]          perf_reads_o,
  output logic [PerfW-1:0]          perf_writes_o
);

  localparam int unsigned Rows     = (MaxN + Lanes - 1) / Lanes;
  localparam int unsigned RowW     = $clog2(Rows + 1);  // counts rows up to Rows
  localparam int unsigned AddrW    = (Rows > 1) ? $clog2(Rows) : 1;
  localparam int unsigned LaneW    = (Lanes > 1) ? $clog2(Lanes) : 1;
  localparam logic [15:0] LfsrTaps = 16'hB400;
  localparam bit          Fused    = Pipelined != 0;  // the first pass streams with the load
  // Overlapped jobs: a separate output unit streams one job's output pass from its bank of the
  // original buffer while the quick-select datapath loads the next job into the other bank.
  localparam bit          Ovl      = Fused && Overlap != 0;
  localparam int unsigned Banks    = Ovl ? 2 : 1;
  localparam int unsigned OAddrW   = (Banks * Rows > 1) ? $clog2(Banks * Rows) : 1;


  // A row of Lanes elements as a flat vector, lane i at [i*W +: W]: the bit layout of
  // [Lanes-1:0][W-1:0], written flat because Yosys 0.23 (scripts/synth_topk.sh) reads no
  // multi-dimensional packed arrays.
  typedef logic [Lanes*ScoreW-1:0] score_row_t;
  typedef logic [Lanes*IndexW-1:0] index_row_t;

  // Buffer 0 is the original buffer (scores with their indices, kept for the output pass);
  // buffers 1..3 hold candidates. A pass reads one buffer and writes its greater and lesser sides
  // to the two candidate buffers it does not read.
  typedef enum logic [1:0] {BufOrig = 2'd0, BufA = 2'd1, BufB = 2'd2, BufC = 2'd3} buf_e;

  typedef enum logic [2:0] {
    StLoad,        // accepting input beats
    StPivotIndex,  // pass cycle s: LFSR step, pivot index = (lfsr * m) >> 16
    StPivotRead,   // s + 1: read the pivot's row
    StStream,      // s + 2 .. s + 1 + R: read one candidate row per cycle
    StDrain,       // until the pipeline is empty; the cycle it is empty flushes and decides
    StOutput,      // output pass
    StHold         // Overlap: decided; waits for the output unit to take the job
  } state_e;

  score_row_t orig_score_q [Banks*Rows];
  index_row_t orig_index_q [Banks*Rows];
  score_row_t cand_q       [3][Rows];

  state_e          state_q;
  logic [15:0]     lfsr_q;
  logic [NW-1:0]   n_q, k_q;
  logic [NW-1:0]   m_q;      // candidates of the current pass
  logic [NW-1:0]   rank_q;   // the wanted element is the rank-th largest candidate
  buf_e            cur_buf_q, gt_buf_q, lt_buf_q;
  logic [NW-1:0]   pivot_pos_q;
  logic [ScoreW-1:0] pivot_q;
  logic [RowW-1:0] row_q;    // load: next row to write; stream / output: next row to read
  logic [NW-1:0]   g_q, e_q, l_q;
  logic [ScoreW-1:0] threshold_q;
  logic [NW-1:0]   q_q;      // how many elements equal to the threshold are kept

  // Read stage: the row read in the previous cycle (a registered SRAM read port).
  logic              rd_valid_q;
  score_row_t        rd_score_q;
  index_row_t        rd_index_q;
  logic [CountW-1:0] rd_count_q;
  // Compare stage result.
  logic              cmp_valid_q;
  score_row_t        cmp_score_q;
  index_row_t        cmp_index_q;
  logic [Lanes-1:0]  cmp_gt_keep_q;  // pass: > pivot; output pass: kept
  logic [Lanes-1:0]  cmp_lt_q;       // pass: < pivot
  // Zero-eliminate stage result.
  logic              ze_valid_q;
  score_row_t        ze_gt_q, ze_lt_q;
  logic [CountW-1:0] ze_gt_count_q, ze_lt_count_q;
  index_row_t        ze_out_q;
  logic [CountW-1:0] ze_out_count_q;
  // Pack stage: partial rows waiting to fill up.
  score_row_t        gt_res_q, lt_res_q;
  logic [CountW-1:0] gt_res_count_q, lt_res_count_q;
  logic [RowW-1:0]   gt_wr_row_q, lt_wr_row_q;
  index_row_t        out_res_q;
  logic [CountW-1:0] out_res_count_q;
  logic [NW-1:0]     out_packed_q;   // selected indices packed into beats so far
  logic [NW-1:0]     equal_seen_q;   // output pass: elements == threshold compared so far
  logic [NW-1:0]     kept_seen_q;    // output pass: elements kept by the compare stage so far
  // Output beats: the output register and one waiting beat (a row can complete a full beat and
  // the final partial one in the same cycle; the latter leaves a cycle later).
  logic              out_valid_q, pend_valid_q;
  index_row_t        out_index_q, pend_index_q;
  logic [CountW-1:0] out_count_q, pend_count_q;
  logic              out_last_q, pend_last_q;

  logic [PerfW-1:0] perf_cmp_q, perf_rd_q, perf_wr_q;

  // Overlap: the bank the quick-select job loads, and the output unit (its job's bank, size,
  // threshold, q, activity counts so far, and its own read / compare / zero-eliminate / pack
  // stages; the output register and the waiting beat above are its last stage).
  logic              ld_bank_q;
  logic              o_busy_q, o_bank_q;
  logic [NW-1:0]     o_n_q, o_k_q, o_q_q;
  logic [ScoreW-1:0] o_thr_q;
  logic [RowW-1:0]   o_row_q;
  logic              o_rd_valid_q;
  score_row_t        o_rd_score_q;
  index_row_t        o_rd_index_q;
  logic [CountW-1:0] o_rd_count_q;
  logic              o_cmp_valid_q;
  index_row_t        o_cmp_index_q;
  logic [Lanes-1:0]  o_cmp_keep_q;
  logic              o_ze_valid_q;
  index_row_t        o_ze_out_q;
  logic [CountW-1:0] o_ze_out_count_q;
  index_row_t        o_res_q;
  logic [CountW-1:0] o_res_count_q;
  logic [NW-1:0]     o_packed_q, o_equal_seen_q, o_kept_seen_q;
  logic [PerfW-1:0]  o_perf_cmp_q, o_perf_rd_q, o_perf_wr_q;

  // ---- helpers
  function automatic logic [CountW-1:0] popcount(logic [Lanes-1:0] bits);
    logic [CountW-1:0] sum;
    sum = '0;
    for (int unsigned i = 0; i < Lanes; i++) sum = sum + CountW'(bits[i]);
    popcount = sum;
  endfunction

  function automatic logic [Lanes-1:0] lanes_below(logic [CountW-1:0] count);
    logic [Lanes-1:0] mask;
    for (int unsigned i = 0; i < Lanes; i++) mask[i] = CountW'(i) < count;
    lanes_below = mask;
  endfunction

  function automatic logic [RowW-1:0] rows_of(logic [NW-1:0] elements);  // ceil(elements / Lanes)
    rows_of = RowW'((NW'(elements) + NW'(Lanes - 1)) / NW'(Lanes));
  endfunction

  // Valid lanes of row `row` of a buffer holding `elements` elements.
  function automatic logic [CountW-1:0] row_count(logic [RowW-1:0] row, logic [NW-1:0] elements);
    logic [NW:0] start;
    logic [NW:0] left;
    start = (NW+1)'(row) * (NW+1)'(Lanes);
    left  = (NW+1)'(elements) - start;
    row_count = (left >= (NW+1)'(Lanes)) ? CountW'(Lanes) : CountW'(left);
  endfunction

  function automatic logic [AddrW-1:0] addr(logic [RowW-1:0] row);
    addr = AddrW'(row);
  endfunction
  function automatic logic [OAddrW-1:0] oaddr(logic bank, logic [RowW-1:0] row);  // original buffer
    oaddr = (Banks > 1 && bank) ? OAddrW'(Rows) + OAddrW'(row) : OAddrW'(row);
  endfunction
  function automatic logic [1:0] slot(buf_e b);  // index of a candidate buffer in cand_q
    slot = 2'(b) - 2'd1;
  endfunction

  // The two candidate buffers a pass reading `from` writes to.
  function automatic buf_e gt_target(buf_e from);
    gt_target = (from == BufA) ? BufB : BufA;
  endfunction
  function automatic buf_e lt_target(buf_e from);
    lt_target = (from == BufC || from == BufOrig) ? BufB : BufC;
  endfunction

  // ---- datapath (combinational)
  function automatic logic [NW-1:0] scale(logic [15:0] lfsr, logic [NW-1:0] m);
    scale = NW'(((16+NW)'(lfsr) * (16+NW)'(m)) >> 16);  // a multiply, no modulo
  endfunction

  logic [15:0]   lfsr_next;
  logic [NW-1:0] pivot_pos;
  always_comb begin
    lfsr_next = lfsr_q[0] ? ((lfsr_q >> 1) ^ LfsrTaps) : (lfsr_q >> 1);
    pivot_pos = scale(lfsr_next, m_q);
  end

  // Fused: the first pass's pivot is a lane of the first input beat.
  logic [ScoreW-1:0] in_pivot;
  always_comb begin
    in_pivot = '0;
    for (int unsigned i = 0; i < Lanes; i++) begin
      if (NW'(i) == scale(lfsr_next, NW'(in_count_i))) in_pivot = in_score_i[i*ScoreW +: ScoreW];
    end
  end

  // The output pass freezes while the output beat waits; the passes never have an output beat.
  logic advance;
  assign advance = !out_valid_q || out_ready_i;
  // Overlap: an output stall freezes the output unit only; the quick-select datapath runs on.
  logic qs_advance;
  assign qs_advance = Ovl || advance;

  logic in_fire, out_fire;
  assign in_fire  = in_valid_i && in_ready_o;
  assign out_fire = out_valid_q && out_ready_i;
  assign in_ready_o = (state_q == StLoad);

  logic out_mode;  // the pipeline carries the output pass (else a quick-select pass)
  assign out_mode = (state_q == StOutput);

  // The second read port (pipelined): the pivot's row.
  score_row_t pivot_row;
  assign pivot_row = (cur_buf_q == BufOrig) ? orig_score_q[oaddr(ld_bank_q, RowW'(pivot_pos_q / NW'(Lanes)))]
                                            : cand_q[slot(cur_buf_q)][AddrW'(pivot_pos_q / NW'(Lanes))];

  // Compare stage.
  logic [Lanes-1:0] rd_lanes, cmp_gt, cmp_lt, cmp_eq, cmp_keep;
  logic [NW-1:0]    equal_before;
  logic [ScoreW-1:0] ref_value;  // pass: the pivot; output pass: the threshold
  always_comb begin
    rd_lanes = lanes_below(rd_count_q);
    ref_value = out_mode ? threshold_q : pivot_q;
    for (int unsigned i = 0; i < Lanes; i++) begin
      cmp_gt[i] = rd_lanes[i] && ($signed(rd_score_q[i*ScoreW +: ScoreW]) > $signed(ref_value));
      cmp_lt[i] = rd_lanes[i] && ($signed(rd_score_q[i*ScoreW +: ScoreW]) < $signed(ref_value));
      cmp_eq[i] = rd_lanes[i] && (rd_score_q[i*ScoreW +: ScoreW] == ref_value);
    end
    // Tie rule: an element equal to the threshold is kept while fewer than q equal ones precede
    // it (a prefix count over the row plus the running count of earlier rows).
    equal_before = equal_seen_q;
    for (int unsigned i = 0; i < Lanes; i++) begin
      cmp_keep[i] = cmp_gt[i] || (cmp_eq[i] && equal_before < q_q);
      equal_before = equal_before + NW'(cmp_eq[i]);
    end
  end

  // Overlap: the output unit's compare stage (the tie rule as above, on its own registers).
  logic [Lanes-1:0] o_rd_lanes, o_gt, o_eq, o_keep;
  logic [NW-1:0]    o_equal_before;
  always_comb begin
    o_rd_lanes = lanes_below(o_rd_count_q);
    for (int unsigned i = 0; i < Lanes; i++) begin
      o_gt[i] = o_rd_lanes[i] && ($signed(o_rd_score_q[i*ScoreW +: ScoreW]) > $signed(o_thr_q));
      o_eq[i] = o_rd_lanes[i] && (o_rd_score_q[i*ScoreW +: ScoreW] == o_thr_q);
    end
    o_equal_before = o_equal_seen_q;
    for (int unsigned i = 0; i < Lanes; i++) begin
      o_keep[i] = o_gt[i] || (o_eq[i] && o_equal_before < o_q_q);
      o_equal_before = o_equal_before + NW'(o_eq[i]);
    end
  end

  // Zero-eliminate stage.
  score_row_t        ze_gt, ze_lt;
  logic [CountW-1:0] ze_gt_count, ze_lt_count;
  index_row_t        ze_out;
  logic [CountW-1:0] ze_out_count;
  attn_topk_compact #(.Lanes(Lanes), .Width(ScoreW)) u_compact_gt (
    .in_data_i(cmp_score_q), .keep_i(cmp_gt_keep_q), .out_data_o(ze_gt), .out_count_o(ze_gt_count)
  );
  attn_topk_compact #(.Lanes(Lanes), .Width(ScoreW)) u_compact_lt (
    .in_data_i(cmp_score_q), .keep_i(cmp_lt_q), .out_data_o(ze_lt), .out_count_o(ze_lt_count)
  );
  attn_topk_compact #(.Lanes(Lanes), .Width(IndexW)) u_compact_out (
    .in_data_i(cmp_index_q), .keep_i(cmp_gt_keep_q), .out_data_o(ze_out),
    .out_count_o(ze_out_count)
  );

  index_row_t        o_ze_out;
  logic [CountW-1:0] o_ze_out_count;
  attn_topk_compact #(.Lanes(Lanes), .Width(IndexW)) u_compact_oout (
    .in_data_i(o_cmp_index_q), .keep_i(o_cmp_keep_q), .out_data_o(o_ze_out),
    .out_count_o(o_ze_out_count)
  );

  // Pack stage.
  logic              gt_full, lt_full, out_full;
  score_row_t        gt_full_row, lt_full_row, gt_rest, lt_rest;
  index_row_t        out_full_row, out_rest;
  logic [CountW-1:0] gt_rest_count, lt_rest_count, out_rest_count;
  attn_topk_pack #(.Lanes(Lanes), .Width(ScoreW)) u_pack_gt (
    .res_data_i(gt_res_q), .res_count_i(gt_res_count_q), .new_data_i(ze_gt_q),
    .new_count_i(ze_gt_count_q), .full_o(gt_full), .full_data_o(gt_full_row),
    .rest_data_o(gt_rest), .rest_count_o(gt_rest_count)
  );
  attn_topk_pack #(.Lanes(Lanes), .Width(ScoreW)) u_pack_lt (
    .res_data_i(lt_res_q), .res_count_i(lt_res_count_q), .new_data_i(ze_lt_q),
    .new_count_i(ze_lt_count_q), .full_o(lt_full), .full_data_o(lt_full_row),
    .rest_data_o(lt_rest), .rest_count_o(lt_rest_count)
  );
  attn_topk_pack #(.Lanes(Lanes), .Width(IndexW)) u_pack_out (
    .res_data_i(out_res_q), .res_count_i(out_res_count_q), .new_data_i(ze_out_q),
    .new_count_i(ze_out_count_q), .full_o(out_full), .full_data_o(out_full_row),
    .rest_data_o(out_rest), .rest_count_o(out_rest_count)
  );
  logic [NW-1:0] out_packed_next;
  assign out_packed_next = out_packed_q + NW'(ze_out_count_q);
  logic              o_full;
  index_row_t        o_full_row, o_rest;
  logic [CountW-1:0] o_rest_count;
  attn_topk_pack #(.Lanes(Lanes), .Width(IndexW)) u_pack_oout (
    .res_data_i(o_res_q), .res_count_i(o_res_count_q), .new_data_i(o_ze_out_q),
    .new_count_i(o_ze_out_count_q), .full_o(o_full), .full_data_o(o_full_row),
    .rest_data_o(o_rest), .rest_count_o(o_rest_count)
  );
  logic [NW-1:0] o_packed_next;
  assign o_packed_next = o_packed_q + NW'(o_ze_out_count_q);

  // A pass is finished in the cycle after its last row was packed: nothing left in the pipeline.
  logic pass_finish;
  assign pass_finish = (state_q == StDrain) && !rd_valid_q && !cmp_valid_q && !ze_valid_q;
  // The candidates of the next pass when this one recurses.
  logic [NW-1:0] next_m;
  buf_e          next_buf;
  assign next_m   = (rank_q <= g_q) ? g_q : l_q;
  assign next_buf = (rank_q <= g_q) ? gt_buf_q : lt_buf_q;

  // Overlap: the output unit takes a decided job in the cycle it decides (StDrain) or, held, in
  // the cycle the previous job's last beat transfers; the quick-select datapath then loads the
  // next job into the other bank.
  logic found, o_free, handoff;
  logic [ScoreW-1:0] handoff_thr;
  logic [NW-1:0]     handoff_q;
  assign found   = rank_q <= g_q + e_q && rank_q > g_q;
  assign o_free  = !o_busy_q || (out_fire && out_last_q);
  assign handoff = Ovl && o_free && ((state_q == StDrain && pass_finish && found) ||
                                     state_q == StHold);
  assign handoff_thr = (state_q == StHold) ? threshold_q : pivot_q;
  assign handoff_q   = (state_q == StHold) ? q_q : rank_q - g_q;

  // ---- state
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q         <= StLoad;
      lfsr_q          <= LfsrSeed;
      n_q             <= '0;
      k_q             <= '0;
      m_q             <= '0;
      rank_q          <= '0;
      cur_buf_q       <= BufOrig;
      gt_buf_q        <= BufA;
      lt_buf_q        <= BufB;
      pivot_pos_q     <= '0;
      pivot_q         <= '0;
      row_q           <= '0;
      g_q             <= '0;
      e_q             <= '0;
      l_q             <= '0;
      threshold_q     <= '0;
      q_q             <= '0;
      rd_valid_q      <= 1'b0;
      rd_score_q      <= '0;
      rd_index_q      <= '0;
      rd_count_q      <= '0;
      cmp_valid_q     <= 1'b0;
      cmp_score_q     <= '0;
      cmp_index_q     <= '0;
      cmp_gt_keep_q   <= '0;
      cmp_lt_q        <= '0;
      ze_valid_q      <= 1'b0;
      ze_gt_q         <= '0;
      ze_lt_q         <= '0;
      ze_gt_count_q   <= '0;
      ze_lt_count_q   <= '0;
      ze_out_q        <= '0;
      ze_out_count_q  <= '0;
      gt_res_q        <= '0;
      lt_res_q        <= '0;
      gt_res_count_q  <= '0;
      lt_res_count_q  <= '0;
      gt_wr_row_q     <= '0;
      lt_wr_row_q     <= '0;
      out_res_q       <= '0;
      out_res_count_q <= '0;
      out_packed_q    <= '0;
      equal_seen_q    <= '0;
      kept_seen_q     <= '0;
      out_valid_q     <= 1'b0;
      out_index_q     <= '0;
      out_count_q     <= '0;
      out_last_q      <= 1'b0;
      pend_valid_q    <= 1'b0;
      pend_index_q    <= '0;
      pend_count_q    <= '0;
      pend_last_q     <= 1'b0;
      perf_cmp_q      <= '0;
      perf_rd_q       <= '0;
      perf_wr_q       <= '0;
      ld_bank_q        <= 1'b0;
      o_busy_q         <= 1'b0;
      o_bank_q         <= 1'b0;
      o_n_q            <= '0;
      o_k_q            <= '0;
      o_q_q            <= '0;
      o_thr_q          <= '0;
      o_row_q          <= '0;
      o_rd_valid_q     <= 1'b0;
      o_rd_score_q     <= '0;
      o_rd_index_q     <= '0;
      o_rd_count_q     <= '0;
      o_cmp_valid_q    <= 1'b0;
      o_cmp_index_q    <= '0;
      o_cmp_keep_q     <= '0;
      o_ze_valid_q     <= 1'b0;
      o_ze_out_q       <= '0;
      o_ze_out_count_q <= '0;
      o_res_q          <= '0;
      o_res_count_q    <= '0;
      o_packed_q       <= '0;
      o_equal_seen_q   <= '0;
      o_kept_seen_q    <= '0;
      o_perf_cmp_q     <= '0;
      o_perf_rd_q      <= '0;
      o_perf_wr_q      <= '0;
    end else begin
      // -- control
      unique case (state_q)
        StLoad: begin
          if (in_fire) begin  // the beat is written to the original buffer (buffer writes below)
            row_q <= row_q + 1'b1;
            n_q   <= n_q + NW'(in_count_i);
            perf_wr_q <= perf_wr_q + PerfW'(in_count_i);
            if (n_q == '0) begin  // first beat of a job
              k_q        <= k_i;
              rank_q     <= k_i;
              perf_cmp_q <= '0;
              perf_rd_q  <= '0;
              perf_wr_q  <= PerfW'(in_count_i);
              if (Fused) begin  // the first pass starts with this beat
                lfsr_q      <= lfsr_next;
                pivot_q     <= in_pivot;
                gt_buf_q    <= gt_target(BufOrig);
                lt_buf_q    <= lt_target(BufOrig);
                g_q         <= '0;
                e_q         <= '0;
                l_q         <= '0;
                gt_wr_row_q <= '0;
                lt_wr_row_q <= '0;
              end
            end
            if (in_last_i) begin
              state_q   <= Fused ? StDrain : StPivotIndex;
              m_q       <= n_q + NW'(in_count_i);
              cur_buf_q <= BufOrig;
            end
          end
        end
        StPivotIndex: begin
          lfsr_q      <= lfsr_next;
          pivot_pos_q <= pivot_pos;
          gt_buf_q    <= gt_target(cur_buf_q);
          lt_buf_q    <= lt_target(cur_buf_q);
          g_q         <= '0;
          e_q         <= '0;
          l_q         <= '0;
          gt_wr_row_q <= '0;
          lt_wr_row_q <= '0;
          row_q       <= '0;
          state_q     <= StPivotRead;
          perf_rd_q   <= perf_rd_q + 1'b1;  // the pivot read
        end
        StPivotRead: state_q <= StStream;
        StStream: begin
          row_q <= row_q + 1'b1;
          if (row_q == rows_of(m_q) - 1'b1) state_q <= StDrain;
        end
        StDrain: begin
          if (pass_finish) begin
            if (found) begin
              threshold_q <= pivot_q;
              q_q         <= rank_q - g_q;
              row_q       <= '0;
              // Overlap: to the output unit now (handoff, below) or once it is free.
              state_q     <= Ovl ? StHold : StOutput;
            end else begin
              m_q       <= next_m;
              cur_buf_q <= next_buf;
              if (rank_q > g_q) rank_q <= rank_q - g_q - e_q;
              if (Fused) begin  // the pivot index now, the pivot read with the first row
                lfsr_q      <= lfsr_next;
                pivot_pos_q <= scale(lfsr_next, next_m);
                gt_buf_q    <= gt_target(next_buf);
                lt_buf_q    <= lt_target(next_buf);
                g_q         <= '0;
                e_q         <= '0;
                l_q         <= '0;
                gt_wr_row_q <= '0;
                lt_wr_row_q <= '0;
                row_q       <= '0;
                state_q     <= StStream;
              end else begin
                state_q <= StPivotIndex;
              end
            end
          end
        end
        StOutput: begin
          if (advance && row_q != rows_of(n_q)) row_q <= row_q + 1'b1;
        end
        StHold: ;  // handoff (below) moves on

        default: state_q <= StLoad;
      endcase

      // -- read stage
      if (qs_advance) begin
        rd_valid_q <= 1'b0;
        if (state_q == StPivotRead) begin
          rd_score_q <= (cur_buf_q == BufOrig) ? orig_score_q[oaddr(ld_bank_q, RowW'(pivot_pos_q / NW'(Lanes)))]
                                               : cand_q[slot(cur_buf_q)][AddrW'(pivot_pos_q / NW'(Lanes))];
        end else if (state_q == StStream) begin
          rd_score_q <= (cur_buf_q == BufOrig) ? orig_score_q[oaddr(ld_bank_q, row_q)] : cand_q[slot(cur_buf_q)][addr(row_q)];
          rd_count_q <= row_count(row_q, m_q);
          rd_valid_q <= 1'b1;
          perf_rd_q  <= perf_rd_q + PerfW'(row_count(row_q, m_q));
        end else if (Fused && state_q == StLoad && in_fire) begin  // the first pass's rows
          rd_score_q <= in_score_i;
          rd_count_q <= in_count_i;
          rd_valid_q <= 1'b1;
        end else if (state_q == StOutput && row_q != rows_of(n_q) && !(out_fire && out_last_q)) begin
          rd_score_q <= orig_score_q[oaddr(ld_bank_q, row_q)];
          rd_index_q <= orig_index_q[oaddr(ld_bank_q, row_q)];
          rd_count_q <= row_count(row_q, n_q);
          rd_valid_q <= 1'b1;
        end
        // The pivot's row arrives in the first stream cycle; pipelined, it is read then through
        // the second port.
        if (state_q == StStream && row_q == '0) begin
          pivot_q <= Fused ? pivot_row[32'(LaneW'(pivot_pos_q % NW'(Lanes))) * ScoreW +: ScoreW]
                               : rd_score_q[32'(LaneW'(pivot_pos_q % NW'(Lanes))) * ScoreW +: ScoreW];
          if (Fused) perf_rd_q <= perf_rd_q + 1'b1 + PerfW'(row_count(row_q, m_q));
        end
      end

      // -- compare stage
      if (qs_advance) begin
        cmp_valid_q   <= rd_valid_q;
        cmp_score_q   <= rd_score_q;
        cmp_index_q   <= rd_index_q;
        cmp_gt_keep_q <= out_mode ? cmp_keep : cmp_gt;
        cmp_lt_q      <= out_mode ? '0 : cmp_lt;
        if (rd_valid_q) begin
          if (out_mode) begin
            equal_seen_q <= equal_before;
            kept_seen_q  <= kept_seen_q + NW'(popcount(cmp_keep));
            // The comparators stop after the row holding the k-th kept element.
            if (kept_seen_q < k_q) perf_cmp_q <= perf_cmp_q + 2 * PerfW'(rd_count_q);
            if (kept_seen_q < k_q) perf_rd_q <= perf_rd_q + PerfW'(rd_count_q);
          end else begin
            g_q <= g_q + NW'(popcount(cmp_gt));
            e_q <= e_q + NW'(popcount(cmp_eq));
            l_q <= l_q + NW'(popcount(cmp_lt));
            perf_cmp_q <= perf_cmp_q + PerfW'(rd_count_q);
          end
        end
      end

      // -- zero-eliminate stage
      if (qs_advance) begin
        ze_valid_q     <= cmp_valid_q;
        ze_gt_q        <= ze_gt;
        ze_lt_q        <= ze_lt;
        ze_gt_count_q  <= cmp_valid_q ? ze_gt_count : '0;
        ze_lt_count_q  <= cmp_valid_q ? ze_lt_count : '0;
        ze_out_q       <= ze_out;
        ze_out_count_q <= cmp_valid_q ? ze_out_count : '0;
      end

      // -- pack stage: quick-select passes write candidate rows
      if (!out_mode && ze_valid_q) begin
        if (gt_full) gt_wr_row_q <= gt_wr_row_q + 1'b1;  // a full row is written (below)
        if (lt_full) lt_wr_row_q <= lt_wr_row_q + 1'b1;
        gt_res_q       <= gt_rest;
        gt_res_count_q <= gt_rest_count;
        lt_res_q       <= lt_rest;
        lt_res_count_q <= lt_rest_count;
        // Fused, a load beat may be written in the same cycle: count both here.
        perf_wr_q <= perf_wr_q + PerfW'(ze_gt_count_q) + PerfW'(ze_lt_count_q) +
                     ((Fused && in_fire) ? PerfW'(in_count_i) : '0);
      end
      // Flush the partial rows when the pass finishes (written below).
      if (pass_finish) begin
        gt_res_count_q <= '0;
        lt_res_count_q <= '0;
      end

      // -- pack stage, output pass, and the output register
      if (out_fire) begin
        out_valid_q  <= pend_valid_q;
        out_index_q  <= pend_index_q;
        out_count_q  <= pend_count_q;
        out_last_q   <= pend_last_q;
        pend_valid_q <= 1'b0;
      end
      if (out_mode && advance && ze_valid_q && !(out_fire && out_last_q)) begin
        // At most the output register and the waiting beat fill here: a full beat, and the final
        // partial beat when this row brings the packed count to k.
        if (out_full) begin
          out_valid_q <= 1'b1;
          out_index_q <= out_full_row;
          out_count_q <= CountW'(Lanes);
          out_last_q  <= (out_packed_next == k_q) && (out_rest_count == '0);
          if ((out_packed_next == k_q) && (out_rest_count != '0)) begin
            pend_valid_q <= 1'b1;
            pend_index_q <= out_rest;
            pend_count_q <= out_rest_count;
            pend_last_q  <= 1'b1;
          end
          out_res_q       <= out_rest;
          out_res_count_q <= out_rest_count;
        end else if ((out_packed_next == k_q) && (out_rest_count != '0)) begin
          out_valid_q     <= 1'b1;
          out_index_q     <= out_rest;
          out_count_q     <= out_rest_count;
          out_last_q      <= 1'b1;
          out_res_count_q <= '0;
        end else begin
          out_res_q       <= out_rest;
          out_res_count_q <= out_rest_count;
        end
        out_packed_q <= out_packed_next;
      end
      // The job ended with its last beat: back to loading, and nothing of it stays in the
      // pipeline. Last in this block, so it overrides the stages' updates of this cycle.
      if (!Ovl && out_fire && out_last_q) begin
        state_q         <= StLoad;
        row_q           <= '0;
        n_q             <= '0;
        rd_valid_q      <= 1'b0;
        cmp_valid_q     <= 1'b0;
        ze_valid_q      <= 1'b0;
        equal_seen_q    <= '0;
        kept_seen_q     <= '0;
        out_packed_q    <= '0;
        out_res_count_q <= '0;
      end

      // -- Overlap: the output unit (same stages and timing as the output pass above)
      if (Ovl && advance) begin
        o_rd_valid_q <= 1'b0;
        if (o_busy_q && o_row_q != rows_of(o_n_q) && !(out_fire && out_last_q)) begin
          o_rd_score_q <= orig_score_q[oaddr(o_bank_q, o_row_q)];
          o_rd_index_q <= orig_index_q[oaddr(o_bank_q, o_row_q)];
          o_rd_count_q <= row_count(o_row_q, o_n_q);
          o_rd_valid_q <= 1'b1;
          o_row_q      <= o_row_q + 1'b1;
        end
        o_cmp_valid_q <= o_rd_valid_q;
        o_cmp_index_q <= o_rd_index_q;
        o_cmp_keep_q  <= o_keep;
        if (o_rd_valid_q) begin
          o_equal_seen_q <= o_equal_before;
          o_kept_seen_q  <= o_kept_seen_q + NW'(popcount(o_keep));
          if (o_kept_seen_q < o_k_q) begin
            o_perf_cmp_q <= o_perf_cmp_q + 2 * PerfW'(o_rd_count_q);
            o_perf_rd_q  <= o_perf_rd_q + PerfW'(o_rd_count_q);
          end
        end
        o_ze_valid_q     <= o_cmp_valid_q;
        o_ze_out_q       <= o_ze_out;
        o_ze_out_count_q <= o_cmp_valid_q ? o_ze_out_count : '0;
        if (o_ze_valid_q && !(out_fire && out_last_q)) begin
          if (o_full) begin
            out_valid_q <= 1'b1;
            out_index_q <= o_full_row;
            out_count_q <= CountW'(Lanes);
            out_last_q  <= (o_packed_next == o_k_q) && (o_rest_count == '0);
            if ((o_packed_next == o_k_q) && (o_rest_count != '0)) begin
              pend_valid_q <= 1'b1;
              pend_index_q <= o_rest;
              pend_count_q <= o_rest_count;
              pend_last_q  <= 1'b1;
            end
            o_res_q       <= o_rest;
            o_res_count_q <= o_rest_count;
          end else if ((o_packed_next == o_k_q) && (o_rest_count != '0)) begin
            out_valid_q   <= 1'b1;
            out_index_q   <= o_rest;
            out_count_q   <= o_rest_count;
            out_last_q    <= 1'b1;
            o_res_count_q <= '0;
          end else begin
            o_res_q       <= o_rest;
            o_res_count_q <= o_rest_count;
          end
          o_packed_q <= o_packed_next;
        end
      end
      if (Ovl && out_fire && out_last_q) begin  // the output unit's job ended
        o_busy_q       <= 1'b0;
        o_rd_valid_q   <= 1'b0;
        o_cmp_valid_q  <= 1'b0;
        o_ze_valid_q   <= 1'b0;
        o_equal_seen_q <= '0;
        o_kept_seen_q  <= '0;
        o_packed_q     <= '0;
        o_res_count_q  <= '0;
      end
      // Last, so it overrides the above: the decided job moves to the output unit, and the
      // quick-select datapath takes the next job into the other bank.
      if (handoff) begin
        o_busy_q     <= 1'b1;
        o_bank_q     <= ld_bank_q;
        o_row_q      <= '0;
        o_n_q        <= n_q;
        o_k_q        <= k_q;
        o_thr_q      <= handoff_thr;
        o_q_q        <= handoff_q;
        o_perf_cmp_q <= perf_cmp_q;
        o_perf_rd_q  <= perf_rd_q;
        o_perf_wr_q  <= perf_wr_q;
        ld_bank_q    <= !ld_bank_q;
        state_q      <= StLoad;
        n_q          <= '0;
        row_q        <= '0;
      end
    end
  end

  // ---- buffer writes
  // The buffers have no reset, like the SRAM macros they stand for, and are written in their own
  // process: Yosys keeps memories written under an asynchronous reset only as flip-flops. A row
  // is never read before this job (load) or this pass (candidates) wrote it, so what the buffers
  // hold after reset is never seen. The pack stage writes a full row while a row is in the
  // pipeline and flushes the partial row in the cycle the pipeline is empty (pass_finish), never
  // both; the greater and lesser sides always go to different candidate buffers.
  logic orig_we, gt_we, lt_we;
  assign orig_we = in_fire;  // into the bank of the job being loaded
  assign gt_we   = (!out_mode && ze_valid_q && gt_full) || (pass_finish && gt_res_count_q != '0);
  assign lt_we   = (!out_mode && ze_valid_q && lt_full) || (pass_finish && lt_res_count_q != '0);
  always_ff @(posedge clk_i) begin
    if (orig_we) begin
      orig_score_q[oaddr(ld_bank_q, row_q)] <= in_score_i;
      orig_index_q[oaddr(ld_bank_q, row_q)] <= in_index_i;
    end
    if (gt_we) cand_q[slot(gt_buf_q)][addr(gt_wr_row_q)] <= pass_finish ? gt_res_q : gt_full_row;
    if (lt_we) cand_q[slot(lt_buf_q)][addr(lt_wr_row_q)] <= pass_finish ? lt_res_q : lt_full_row;
  end

  assign out_valid_o        = out_valid_q;
  assign out_index_o        = out_index_q;
  assign out_count_o        = out_count_q;
  assign out_last_o         = out_last_q;
  // Overlap: the output unit's job, valid in the cycle of its final beat (a handoff in that
  // cycle replaces them at the clock edge).
  assign perf_comparisons_o = Ovl ? o_perf_cmp_q : perf_cmp_q;
  assign perf_reads_o       = Ovl ? o_perf_rd_q : perf_rd_q;
  assign perf_writes_o      = Ovl ? o_perf_wr_q : perf_wr_q;

  // ---- protocol assertions (Verilator --assert)
`ifndef SYNTHESIS
  logic past_valid_q;
  logic in_held_q, out_held_q;
  score_row_t in_score_past_q;
  index_row_t in_index_past_q;
  logic [CountW-1:0] in_count_past_q;
  logic in_last_past_q;
  index_row_t out_index_past_q;
  logic [CountW-1:0] out_count_past_q;
  logic out_last_past_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      past_valid_q <= 1'b0;
      in_held_q    <= 1'b0;
      out_held_q   <= 1'b0;
    end else begin
      past_valid_q     <= 1'b1;
      in_held_q        <= in_valid_i && !in_ready_o;
      out_held_q       <= out_valid_o && !out_ready_i;
      in_score_past_q  <= in_score_i;
      in_index_past_q  <= in_index_i;
      in_count_past_q  <= in_count_i;
      in_last_past_q   <= in_last_i;
      out_index_past_q <= out_index_o;
      out_count_past_q <= out_count_o;
      out_last_past_q  <= out_last_o;
    end
  end
  logic [NW-1:0] job_k;  // k of the job a beat belongs to (sampled with its first beat)
  assign job_k = (n_q == '0) ? k_i : k_q;

  // Obligations of the sender (input) and of this engine (output): while valid && !ready the beat
  // stays and does not change.
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      past_valid_q && in_held_q |-> in_valid_i && in_score_i == in_score_past_q &&
      in_index_i == in_index_past_q && in_count_i == in_count_past_q &&
      in_last_i == in_last_past_q)
  else $error("attn_topk: input beat dropped or changed while valid && !ready");
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      past_valid_q && out_held_q |-> out_valid_o && out_index_o == out_index_past_q &&
      out_count_o == out_count_past_q && out_last_o == out_last_past_q)
  else $error("attn_topk: output beat dropped or changed while valid && !ready");
  // Job shape: full beats before the last, 1 <= k <= n <= MaxN.
  assert property (@(posedge clk_i) disable iff (!rst_ni) in_fire |-> in_count_i != '0)
  else $error("attn_topk: in_count_i is 0");
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_fire && !in_last_i |-> in_count_i == CountW'(Lanes))
  else $error("attn_topk: a beat before the last carries fewer than Lanes elements");
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_fire |-> (NW+1)'(n_q) + (NW+1)'(in_count_i) <= (NW+1)'(MaxN))
  else $error("attn_topk: more than MaxN elements in a job");
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_fire && n_q == '0 |-> k_i != '0)
  else $error("attn_topk: k_i is 0");
  assert property (@(posedge clk_i) disable iff (!rst_ni)
      in_fire && in_last_i |-> (NW+1)'(job_k) <= (NW+1)'(n_q) + (NW+1)'(in_count_i))
  else $error("attn_topk: k exceeds n");

  // in_count_i can exceed Lanes only when Lanes + 1 is not a power of two.
  if ((1 << CountW) - 1 > Lanes) begin : gen_count_check
    assert property (@(posedge clk_i) disable iff (!rst_ni) in_fire |-> in_count_i <= CountW'(Lanes))
    else $error("attn_topk: in_count_i exceeds Lanes");
  end
`endif

endmodule
