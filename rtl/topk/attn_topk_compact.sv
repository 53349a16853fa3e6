// attn_topk_compact: zero eliminator. Moves the kept lanes of a row to the lowest lanes, in order.
//
// Behaviour: out_data_o[j] is the j-th kept lane of in_data_i (lanes are kept where keep_i is 1),
// out_count_o = popcount(keep_i); lanes >= out_count_o are zero. Purely combinational: the parent
// registers the result (one pipeline stage).
//
// Structure (SpAtten's zero eliminator): a prefix count gives every lane the number of dropped
// lanes below it, z_i; lane i then moves down by z_i through ceil(log2 Lanes) shift levels, level
// l moving by 2^l when bit l of z_i is set. Least significant level first, the moving lanes never
// collide: two kept lanes i < i' have z_i <= z_i' <= z_i + (i' - i - 1), so after any level their
// positions stay distinct and ordered.
module attn_topk_compact #(
  parameter int unsigned Lanes = 16,
  parameter int unsigned Width = 32,
  localparam int unsigned CountW = $clog2(Lanes + 1),
  localparam int unsigned Levels = (Lanes > 1) ? $clog2(Lanes) : 1
) (
  input  logic [Lanes*Width-1:0] in_data_i,   // lane i: [i*Width +: Width]
  input  logic [Lanes-1:0]       keep_i,
  output logic [Lanes*Width-1:0] out_data_o,  // lane j: [j*Width +: Width]
  output logic [CountW-1:0]      out_count_o
);

  always_comb begin
    // Every lane in flight through the levels: its data, whether it holds a kept element, and how
    // far it still has to move.
    logic [Lanes*Width-1:0]  data, data_next;
    logic [Lanes-1:0]        valid, valid_next;
    logic [Lanes*CountW-1:0] shift, shift_next;  // lane i: [i*CountW +: CountW]
    logic [CountW-1:0]       dropped_below;
    dropped_below = '0;
    data  = in_data_i;
    valid = keep_i;
    for (int unsigned i = 0; i < Lanes; i++) begin
      shift[i*CountW +: CountW] = dropped_below;
      dropped_below = dropped_below + CountW'(!keep_i[i]);
    end
    out_count_o = CountW'(Lanes) - dropped_below;

    for (int unsigned l = 0; l < Levels; l++) begin
      for (int unsigned p = 0; p < Lanes; p++) begin
        // The lane that may arrive from above (clamped to p at the top, where none can arrive, so
        // that no select runs past the row).
        int unsigned a;
        a = (p + (1 << l) < Lanes) ? p + (1 << l) : p;
        // A lane arriving from above wins; a lane that stays keeps its place (never both).
        if (a != p && valid[a] && shift[a*CountW + l]) begin
          data_next[p*Width +: Width]    = data[a*Width +: Width];
          shift_next[p*CountW +: CountW] = shift[a*CountW +: CountW];
          valid_next[p]                  = 1'b1;
        end else if (valid[p] && !shift[p*CountW + l]) begin
          data_next[p*Width +: Width]    = data[p*Width +: Width];
          shift_next[p*CountW +: CountW] = shift[p*CountW +: CountW];
          valid_next[p]                  = 1'b1;
        end else begin
          data_next[p*Width +: Width]    = '0;
          shift_next[p*CountW +: CountW] = '0;
          valid_next[p]                  = 1'b0;
        end
      end
      data  = data_next;
      shift = shift_next;
      valid = valid_next;
    end
    out_data_o = data;
  end

endmodule
