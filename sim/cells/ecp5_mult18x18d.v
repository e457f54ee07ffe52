// Simulation model of the ECP5 MULT18X18D multiplier, for the gate-level netlists of
// ecg_alq.sim.netlist. Yosys ships only a blackbox of this cell (share/ecp5/cells_bb.v), so this
// model covers the one configuration synth_ecp5 instantiates here: every register bypassed
// (the REG_*_CLK parameters "NONE"), no cascade (SOURCEA = SOURCEB = 0), P = A x B with each
// operand signed when SIGNEDA / SIGNEDB is 1. Any other configuration stops the simulation at
// time zero rather than being simulated wrongly. The C inputs and every other output are unused
// in this configuration and left out.
module MULT18X18D(A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17, B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, SIGNEDA, SIGNEDB, SOURCEA, SOURCEB, P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35);
  input A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17;
  input B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17;
  input C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17;
  input SIGNEDA, SIGNEDB, SOURCEA, SOURCEB;
  output P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17, P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33, P34, P35;
  parameter REG_INPUTA_CLK = "NONE";
  parameter REG_INPUTB_CLK = "NONE";
  parameter REG_INPUTC_CLK = "NONE";
  parameter REG_PIPELINE_CLK = "NONE";
  parameter REG_OUTPUT_CLK = "NONE";
  parameter SOURCEB_MODE = "B_SHIFT";
  parameter MULT_BYPASS = "DISABLED";
  initial begin
    if (REG_INPUTA_CLK != "NONE") begin $display("MULT18X18D: REG_INPUTA_CLK = %s is not modelled", REG_INPUTA_CLK); $finish; end
    if (REG_INPUTB_CLK != "NONE") begin $display("MULT18X18D: REG_INPUTB_CLK = %s is not modelled", REG_INPUTB_CLK); $finish; end
    if (REG_INPUTC_CLK != "NONE") begin $display("MULT18X18D: REG_INPUTC_CLK = %s is not modelled", REG_INPUTC_CLK); $finish; end
    if (REG_PIPELINE_CLK != "NONE") begin $display("MULT18X18D: REG_PIPELINE_CLK = %s is not modelled", REG_PIPELINE_CLK); $finish; end
    if (REG_OUTPUT_CLK != "NONE") begin $display("MULT18X18D: REG_OUTPUT_CLK = %s is not modelled", REG_OUTPUT_CLK); $finish; end
    if (MULT_BYPASS != "DISABLED") begin $display("MULT18X18D: MULT_BYPASS is not modelled"); $finish; end
  end
  wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
  wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
  wire signed [18:0] sa = {SIGNEDA & a[17], a};
  wire signed [18:0] sb = {SIGNEDB & b[17], b};
  wire signed [37:0] product = sa * sb;
  wire cascade = SOURCEA | SOURCEB;
  assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = cascade ? 36'bx : product[35:0];
endmodule
