"""attnsim.flex_sass's SASS reader (the GPU part runs on the H200 only): functions, instruction
counts and loops (backward branches) of hand-written cuobjdump and nvdisasm listings, counted by
hand."""
from attnsim.flex_sass import parse_sass

# cuobjdump -sass style: a 3-instruction inner loop inside a 6-instruction outer loop, a forward
# branch that is not a loop, and a predicated branch.
CUOBJDUMP = """
	code for sm_90a
		Function : triton_tem_fused_0
	.headerflags	@"EF_CUDA_SM90"
        /*0000*/                   LDC R1, c[0x0][0x28] ;                  /* 0x00000a00ff017b82 */
        /*0010*/                   S2R R0, SR_TID.X ;                      /* 0x0000000000007919 */
.L_x_0:
        /*0020*/                   IMAD.HI R4, R2, 0x55555556, RZ ;
.L_x_1:
        /*0030*/                   IADD3 R2, R2, 0x1, RZ ;
        /*0040*/                   ISETP.GE.AND P0, PT, R2, 0x10, PT ;
        /*0050*/              @!P0 BRA `(.L_x_1) ;
        /*0060*/                   ISETP.NE.AND P1, PT, R4, RZ, PT ;
        /*0070*/               @P1 BRA `(.L_x_0) ;
        /*0080*/                   BRA `(.L_x_2) ;
.L_x_2:
        /*0090*/                   EXIT ;
		Function : other_kernel
        /*0000*/                   EXIT ;
"""

# nvdisasm -c style: a function section and a loop whose branch names a hex address.
NVDISASM = """
	.text.triton_tem_fused_1:
        /*0000*/                   MOV R2, RZ ;
        /*0010*/                   FMUL R3, R3, R5 ;
        /*0020*/                   LOP3.LUT R3, R3, 0xff, RZ, 0xc0, !PT ;
        /*0030*/              @!P0 BRA 0x10 ;
        /*0040*/                   EXIT ;
"""


def test_cuobjdump_listing_functions_loops_and_opcodes():
    functions = parse_sass(CUOBJDUMP)
    assert [f["name"] for f in functions] == ["triton_tem_fused_0", "other_kernel"]
    main, other = functions
    assert main["total_instructions"] == 10
    assert other["total_instructions"] == 1 and other["loops"] == []
    # Largest loop first: 0x20..0x70 holds 6 instructions, 0x30..0x50 holds 3; the forward
    # branch to .L_x_2 is not a loop.
    assert [(lp["start"], lp["end"], lp["instructions"]) for lp in main["loops"]] == \
        [(0x20, 0x70, 6), (0x30, 0x50, 3)]
    assert main["loops"][1]["opcodes"] == {"IADD3": 1, "ISETP.GE.AND": 1, "BRA": 1}
    assert main["loops"][0]["opcodes"]["IMAD.HI"] == 1
    assert main["loops"][0]["opcodes"]["BRA"] == 2


def test_nvdisasm_listing_with_hex_branch_targets():
    (function,) = parse_sass(NVDISASM)
    assert function["name"] == "triton_tem_fused_1"
    assert function["total_instructions"] == 5
    assert [(lp["start"], lp["end"], lp["instructions"]) for lp in function["loops"]] == \
        [(0x10, 0x30, 3)]
    assert function["loops"][0]["opcodes"] == {"FMUL": 1, "LOP3.LUT": 1, "BRA": 1}
