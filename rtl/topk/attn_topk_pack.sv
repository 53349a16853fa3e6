// attn_topk_pack: appends a compacted row to a partial row (the residue) and splits off a full row.
//
// Behaviour: the concatenation residue[0 .. res_count_i) ++ new[0 .. new_count_i) is formed; when
// it holds at least Lanes elements, full_o is 1, full_data_o carries its first Lanes elements and
// rest_* the remainder; otherwise full_o is 0 and rest_* is the whole concatenation. Purely
// combinational: the parent holds the residue register and writes full rows to a FIFO buffer or
// to the output beat register. Requires res_count_i < Lanes and new_count_i <= Lanes.
module attn_topk_pack #(
  parameter int unsigned Lanes = 16,
  parameter int unsigned Width = 32,
  localparam int unsigned CountW = $clog2(Lanes + 1)
) (
  // Rows are flat vectors, lane i at [i*Width +: Width] (the layout of [Lanes-1:0][Width-1:0]).
  input  logic [Lanes*Width-1:0] res_data_i,
  input  logic [CountW-1:0]      res_count_i,
  input  logic [Lanes*Width-1:0] new_data_i,
  input  logic [CountW-1:0]      new_count_i,
  output logic                   full_o,
  output logic [Lanes*Width-1:0] full_data_o,
  output logic [Lanes*Width-1:0] rest_data_o,
  output logic [CountW-1:0]      rest_count_o
);

  localparam int unsigned SumW = CountW + 1;

  // The new row shifted up behind the residue over 2 x Lanes lanes: a log shifter by res_count_i
  // lanes (level b moves by 2^b lanes when bit b is set), written with constant shifts so that
  // synthesis builds ceil(log2(Lanes + 1)) levels of 2:1 muxes rather than a variable bit shifter
  // per lane.
  logic [2*Lanes*Width-1:0] shifted;
  logic [2*Lanes*Width-1:0] joined;
  logic [SumW-1:0]          total;

  always_comb begin
    shifted = {{(Lanes*Width){1'b0}}, new_data_i};
    for (int unsigned b = 0; b < CountW; b++) begin
      if (res_count_i[b]) shifted = shifted << ((1 << b) * Width);
    end
    // Below the residue count the residue's lanes, above it the shifted new row (zero beyond its
    // last lane); res_count_i < Lanes, so lanes >= Lanes are never residue lanes.
    joined = shifted;
    for (int unsigned j = 0; j < Lanes; j++) begin
      if (j < 32'(res_count_i)) joined[j*Width +: Width] = res_data_i[j*Width +: Width];
    end
    total  = SumW'(res_count_i) + SumW'(new_count_i);
    full_o = total >= SumW'(Lanes);
    full_data_o  = joined[Lanes*Width-1:0];
    rest_data_o  = full_o ? joined[2*Lanes*Width-1:Lanes*Width] : joined[Lanes*Width-1:0];
    rest_count_o = full_o ? CountW'(total - SumW'(Lanes)) : CountW'(total);
  end

endmodule
