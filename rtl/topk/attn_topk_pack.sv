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
  input  logic [Lanes-1:0][Width-1:0] res_data_i,
  input  logic [CountW-1:0]           res_count_i,
  input  logic [Lanes-1:0][Width-1:0] new_data_i,
  input  logic [CountW-1:0]           new_count_i,
  output logic                        full_o,
  output logic [Lanes-1:0][Width-1:0] full_data_o,
  output logic [Lanes-1:0][Width-1:0] rest_data_o,
  output logic [CountW-1:0]           rest_count_o
);

  localparam int unsigned SumW = CountW + 1;

  // The new row shifted up behind the residue: a barrel shift by res_count_i over 2 x Lanes lanes.
  logic [2*Lanes-1:0][Width-1:0] joined;
  logic [SumW-1:0]               total;

  always_comb begin
    for (int j = 0; j < 2 * int'(Lanes); j++) begin
      joined[j] = '0;
      if (j < int'(res_count_i)) begin
        joined[j] = res_data_i[j];
      end else if (j - int'(res_count_i) < int'(Lanes)) begin
        joined[j] = new_data_i[j-int'(res_count_i)];
      end
    end
    total  = SumW'(res_count_i) + SumW'(new_count_i);
    full_o = total >= SumW'(Lanes);
    for (int unsigned j = 0; j < Lanes; j++) begin
      full_data_o[j] = joined[j];
      rest_data_o[j] = full_o ? joined[j+Lanes] : joined[j];
    end
    rest_count_o = full_o ? CountW'(total - SumW'(Lanes)) : CountW'(total);
  end

endmodule
