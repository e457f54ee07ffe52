// Simulation model of the ECP5 DP16KD block RAM (18 Kbit, two ports), for the gate-level netlists
// of ecg_alq.sim.netlist. Yosys ships only a blackbox of this cell (share/ecp5/cells_sim.v). The
// model follows the semantics yosys' memory mapping assumes of the cell (its DP16KD library
// description and map file: 1024 words of two 9-bit bytes; INITVAL_kk holds words 16 kk .. 16 kk
// + 15, word i in bits 20 i .. 20 i + 17), in the configuration synth_ecp5 writes here:
//   - DATA_WIDTH 36 on both ports (how yosys writes its pseudo-dual-port mapping): port A writes
//     words 2w (from DIA) and 2w + 1 (from DIB), w = address bits 13..5, bits 3..0 enabling
//     their four bytes; port B reads the two words to DOA and DOB;
//   - DATA_WIDTH 18: address bits 13..4 pick the word, bits 1..0 enable each byte's write;
//     9: bit 3 picks the byte; 4, 2, 1: bit 3 the byte, then the nibble, pair or bit of its 8
//     data bits (bits 2, 2..1, 2..0); narrow data on the low pins, the parity bit unreachable;
//   - REGMODE "NOREG" (the word read appears after the clock edge), WRITEMODE NORMAL (a writing
//     port keeps its output), WRITETHROUGH or READBEFOREWRITE; CE gates, RST zeroes the output
//     (at the clock edge with RESETMODE "SYNC", at once with "ASYNC");
//   - chip selects decoding to 0b000 and tied to 0 (one block per memory slice).
// Anything else stops the simulation at time zero rather than being simulated wrongly. Writes of
// both ports to one word in one cycle (undefined on the chip) are not modelled.
module DP16KD(DIA0, DIA1, DIA2, DIA3, DIA4, DIA5, DIA6, DIA7, DIA8, DIA9, DIA10, DIA11, DIA12, DIA13, DIA14, DIA15, DIA16, DIA17, ADA0, ADA1, ADA2, ADA3, ADA4, ADA5, ADA6, ADA7, ADA8, ADA9, ADA10, ADA11, ADA12, ADA13, CEA, OCEA, CLKA, WEA, RSTA, CSA2, CSA1, CSA0, DOA0, DOA1, DOA2, DOA3, DOA4, DOA5, DOA6, DOA7, DOA8, DOA9, DOA10, DOA11, DOA12, DOA13, DOA14, DOA15, DOA16, DOA17,
  DIB0, DIB1, DIB2, DIB3, DIB4, DIB5, DIB6, DIB7, DIB8, DIB9, DIB10, DIB11, DIB12, DIB13, DIB14, DIB15, DIB16, DIB17, ADB0, ADB1, ADB2, ADB3, ADB4, ADB5, ADB6, ADB7, ADB8, ADB9, ADB10, ADB11, ADB12, ADB13, CEB, OCEB, CLKB, WEB, RSTB, CSB2, CSB1, CSB0, DOB0, DOB1, DOB2, DOB3, DOB4, DOB5, DOB6, DOB7, DOB8, DOB9, DOB10, DOB11, DOB12, DOB13, DOB14, DOB15, DOB16, DOB17);
  input DIA0, DIA1, DIA2, DIA3, DIA4, DIA5, DIA6, DIA7, DIA8, DIA9, DIA10, DIA11, DIA12, DIA13, DIA14, DIA15, DIA16, DIA17;
  input ADA0, ADA1, ADA2, ADA3, ADA4, ADA5, ADA6, ADA7, ADA8, ADA9, ADA10, ADA11, ADA12, ADA13;
  input CEA, OCEA, CLKA, WEA, RSTA, CSA2, CSA1, CSA0;
  output DOA0, DOA1, DOA2, DOA3, DOA4, DOA5, DOA6, DOA7, DOA8, DOA9, DOA10, DOA11, DOA12, DOA13, DOA14, DOA15, DOA16, DOA17;
  input DIB0, DIB1, DIB2, DIB3, DIB4, DIB5, DIB6, DIB7, DIB8, DIB9, DIB10, DIB11, DIB12, DIB13, DIB14, DIB15, DIB16, DIB17;
  input ADB0, ADB1, ADB2, ADB3, ADB4, ADB5, ADB6, ADB7, ADB8, ADB9, ADB10, ADB11, ADB12, ADB13;
  input CEB, OCEB, CLKB, WEB, RSTB, CSB2, CSB1, CSB0;
  output DOB0, DOB1, DOB2, DOB3, DOB4, DOB5, DOB6, DOB7, DOB8, DOB9, DOB10, DOB11, DOB12, DOB13, DOB14, DOB15, DOB16, DOB17;
  parameter DATA_WIDTH_A = 18;
  parameter DATA_WIDTH_B = 18;
  parameter REGMODE_A = "NOREG";
  parameter REGMODE_B = "NOREG";
  parameter RESETMODE = "SYNC";
  parameter ASYNC_RESET_RELEASE = "SYNC";
  parameter WRITEMODE_A = "NORMAL";
  parameter WRITEMODE_B = "NORMAL";
  parameter CSDECODE_A = "0b000";
  parameter CSDECODE_B = "0b000";
  parameter CLKAMUX = "CLKA";
  parameter CLKBMUX = "CLKB";
  parameter GSR = "ENABLED";
  parameter INIT_DATA = "STATIC";
  parameter [319:0] INITVAL_00 = 320'h0;
  parameter [319:0] INITVAL_01 = 320'h0;
  parameter [319:0] INITVAL_02 = 320'h0;
  parameter [319:0] INITVAL_03 = 320'h0;
  parameter [319:0] INITVAL_04 = 320'h0;
  parameter [319:0] INITVAL_05 = 320'h0;
  parameter [319:0] INITVAL_06 = 320'h0;
  parameter [319:0] INITVAL_07 = 320'h0;
  parameter [319:0] INITVAL_08 = 320'h0;
  parameter [319:0] INITVAL_09 = 320'h0;
  parameter [319:0] INITVAL_0A = 320'h0;
  parameter [319:0] INITVAL_0B = 320'h0;
  parameter [319:0] INITVAL_0C = 320'h0;
  parameter [319:0] INITVAL_0D = 320'h0;
  parameter [319:0] INITVAL_0E = 320'h0;
  parameter [319:0] INITVAL_0F = 320'h0;
  parameter [319:0] INITVAL_10 = 320'h0;
  parameter [319:0] INITVAL_11 = 320'h0;
  parameter [319:0] INITVAL_12 = 320'h0;
  parameter [319:0] INITVAL_13 = 320'h0;
  parameter [319:0] INITVAL_14 = 320'h0;
  parameter [319:0] INITVAL_15 = 320'h0;
  parameter [319:0] INITVAL_16 = 320'h0;
  parameter [319:0] INITVAL_17 = 320'h0;
  parameter [319:0] INITVAL_18 = 320'h0;
  parameter [319:0] INITVAL_19 = 320'h0;
  parameter [319:0] INITVAL_1A = 320'h0;
  parameter [319:0] INITVAL_1B = 320'h0;
  parameter [319:0] INITVAL_1C = 320'h0;
  parameter [319:0] INITVAL_1D = 320'h0;
  parameter [319:0] INITVAL_1E = 320'h0;
  parameter [319:0] INITVAL_1F = 320'h0;
  parameter [319:0] INITVAL_20 = 320'h0;
  parameter [319:0] INITVAL_21 = 320'h0;
  parameter [319:0] INITVAL_22 = 320'h0;
  parameter [319:0] INITVAL_23 = 320'h0;
  parameter [319:0] INITVAL_24 = 320'h0;
  parameter [319:0] INITVAL_25 = 320'h0;
  parameter [319:0] INITVAL_26 = 320'h0;
  parameter [319:0] INITVAL_27 = 320'h0;
  parameter [319:0] INITVAL_28 = 320'h0;
  parameter [319:0] INITVAL_29 = 320'h0;
  parameter [319:0] INITVAL_2A = 320'h0;
  parameter [319:0] INITVAL_2B = 320'h0;
  parameter [319:0] INITVAL_2C = 320'h0;
  parameter [319:0] INITVAL_2D = 320'h0;
  parameter [319:0] INITVAL_2E = 320'h0;
  parameter [319:0] INITVAL_2F = 320'h0;
  parameter [319:0] INITVAL_30 = 320'h0;
  parameter [319:0] INITVAL_31 = 320'h0;
  parameter [319:0] INITVAL_32 = 320'h0;
  parameter [319:0] INITVAL_33 = 320'h0;
  parameter [319:0] INITVAL_34 = 320'h0;
  parameter [319:0] INITVAL_35 = 320'h0;
  parameter [319:0] INITVAL_36 = 320'h0;
  parameter [319:0] INITVAL_37 = 320'h0;
  parameter [319:0] INITVAL_38 = 320'h0;
  parameter [319:0] INITVAL_39 = 320'h0;
  parameter [319:0] INITVAL_3A = 320'h0;
  parameter [319:0] INITVAL_3B = 320'h0;
  parameter [319:0] INITVAL_3C = 320'h0;
  parameter [319:0] INITVAL_3D = 320'h0;
  parameter [319:0] INITVAL_3E = 320'h0;
  parameter [319:0] INITVAL_3F = 320'h0;

  reg [17:0] mem [0:1023];
  integer i;
  initial begin
    for (i = 0; i < 16; i = i + 1) mem[0 * 16 + i] = INITVAL_00[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[1 * 16 + i] = INITVAL_01[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[2 * 16 + i] = INITVAL_02[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[3 * 16 + i] = INITVAL_03[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[4 * 16 + i] = INITVAL_04[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[5 * 16 + i] = INITVAL_05[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[6 * 16 + i] = INITVAL_06[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[7 * 16 + i] = INITVAL_07[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[8 * 16 + i] = INITVAL_08[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[9 * 16 + i] = INITVAL_09[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[10 * 16 + i] = INITVAL_0A[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[11 * 16 + i] = INITVAL_0B[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[12 * 16 + i] = INITVAL_0C[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[13 * 16 + i] = INITVAL_0D[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[14 * 16 + i] = INITVAL_0E[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[15 * 16 + i] = INITVAL_0F[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[16 * 16 + i] = INITVAL_10[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[17 * 16 + i] = INITVAL_11[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[18 * 16 + i] = INITVAL_12[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[19 * 16 + i] = INITVAL_13[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[20 * 16 + i] = INITVAL_14[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[21 * 16 + i] = INITVAL_15[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[22 * 16 + i] = INITVAL_16[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[23 * 16 + i] = INITVAL_17[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[24 * 16 + i] = INITVAL_18[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[25 * 16 + i] = INITVAL_19[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[26 * 16 + i] = INITVAL_1A[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[27 * 16 + i] = INITVAL_1B[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[28 * 16 + i] = INITVAL_1C[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[29 * 16 + i] = INITVAL_1D[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[30 * 16 + i] = INITVAL_1E[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[31 * 16 + i] = INITVAL_1F[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[32 * 16 + i] = INITVAL_20[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[33 * 16 + i] = INITVAL_21[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[34 * 16 + i] = INITVAL_22[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[35 * 16 + i] = INITVAL_23[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[36 * 16 + i] = INITVAL_24[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[37 * 16 + i] = INITVAL_25[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[38 * 16 + i] = INITVAL_26[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[39 * 16 + i] = INITVAL_27[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[40 * 16 + i] = INITVAL_28[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[41 * 16 + i] = INITVAL_29[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[42 * 16 + i] = INITVAL_2A[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[43 * 16 + i] = INITVAL_2B[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[44 * 16 + i] = INITVAL_2C[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[45 * 16 + i] = INITVAL_2D[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[46 * 16 + i] = INITVAL_2E[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[47 * 16 + i] = INITVAL_2F[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[48 * 16 + i] = INITVAL_30[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[49 * 16 + i] = INITVAL_31[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[50 * 16 + i] = INITVAL_32[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[51 * 16 + i] = INITVAL_33[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[52 * 16 + i] = INITVAL_34[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[53 * 16 + i] = INITVAL_35[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[54 * 16 + i] = INITVAL_36[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[55 * 16 + i] = INITVAL_37[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[56 * 16 + i] = INITVAL_38[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[57 * 16 + i] = INITVAL_39[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[58 * 16 + i] = INITVAL_3A[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[59 * 16 + i] = INITVAL_3B[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[60 * 16 + i] = INITVAL_3C[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[61 * 16 + i] = INITVAL_3D[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[62 * 16 + i] = INITVAL_3E[i * 20 +: 18];
    for (i = 0; i < 16; i = i + 1) mem[63 * 16 + i] = INITVAL_3F[i * 20 +: 18];
    if (REGMODE_A != "NOREG" || REGMODE_B != "NOREG") begin
      $display("DP16KD: REGMODE %s/%s is not modelled", REGMODE_A, REGMODE_B); $finish;
    end
    if (!known_width(DATA_WIDTH_A) || !known_width(DATA_WIDTH_B)
        || (DATA_WIDTH_A == 36) != (DATA_WIDTH_B == 36)) begin
      $display("DP16KD: DATA_WIDTH %0d/%0d is not modelled", DATA_WIDTH_A, DATA_WIDTH_B); $finish;
    end
    if (!(WRITEMODE_A == "NORMAL" || WRITEMODE_A == "WRITETHROUGH" || WRITEMODE_A == "READBEFOREWRITE")
        || !(WRITEMODE_B == "NORMAL" || WRITEMODE_B == "WRITETHROUGH" || WRITEMODE_B == "READBEFOREWRITE")) begin
      $display("DP16KD: WRITEMODE %s/%s is not modelled", WRITEMODE_A, WRITEMODE_B); $finish;
    end
    if (RESETMODE != "SYNC" && RESETMODE != "ASYNC") begin
      $display("DP16KD: RESETMODE %s is not modelled", RESETMODE); $finish;
    end
    if (CSDECODE_A != "0b000" || CSDECODE_B != "0b000") begin
      $display("DP16KD: CSDECODE %s/%s is not modelled", CSDECODE_A, CSDECODE_B); $finish;
    end
  end

  function known_width(input integer w);
    known_width = w == 1 || w == 2 || w == 4 || w == 9 || w == 18 || w == 36;
  endfunction
  localparam WIDE = DATA_WIDTH_A == 36;  // A writes 36 bits, B reads them (DOA low, DOB high)

  // the DATA_WIDTH-bit lane of a word that address ad reaches, on the low bits
  function [17:0] lane(input [17:0] word, input [13:0] ad, input integer width);
    reg [8:0] byte_;
    begin
      byte_ = ad[3] ? word[17:9] : word[8:0];
      case (width)
        18: lane = word;
        9: lane = {9'b0, byte_};
        4: lane = {14'b0, byte_[ad[2] * 4 +: 4]};
        2: lane = {16'b0, byte_[ad[2:1] * 2 +: 2]};
        default: lane = {17'b0, byte_[ad[2:0]]};
      endcase
    end
  endfunction

  // word with the lane that address ad reaches replaced by data (width 18: the enabled bytes)
  function [17:0] merged(input [17:0] word, input [13:0] ad, input [17:0] data, input integer width);
    reg [17:0] mask, shifted;
    integer at;
    begin
      case (width)
        18: begin mask = {{9{ad[1]}}, {9{ad[0]}}}; shifted = data; end
        9: begin at = ad[3] * 9; mask = 18'h1ff << at; shifted = data[8:0] << at; end
        4: begin at = ad[3] * 9 + ad[2] * 4; mask = 18'hf << at; shifted = data[3:0] << at; end
        2: begin at = ad[3] * 9 + ad[2:1] * 2; mask = 18'h3 << at; shifted = data[1:0] << at; end
        default: begin at = ad[3] * 9 + ad[2:0]; mask = 18'h1 << at; shifted = data[0] << at; end
      endcase
      merged = (word & ~mask) | (shifted & mask);
    end
  endfunction

  // port A
  wire clk_a = (CLKAMUX == "INV") ? ~CLKA : CLKA;
  wire [13:0] ad_a = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
  wire [17:0] di_a = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
  wire [17:0] di_b = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
  wire arst_a = RESETMODE == "ASYNC" && RSTA;
  reg [17:0] do_a = 18'b0, do_b_low = 18'b0;
  assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = WIDE ? do_b_low : do_a;
  always @(posedge clk_a or posedge arst_a) begin
    if (RSTA) begin
      do_a <= 18'b0;
    end else if (CEA && WIDE) begin
      if (WEA) begin
        mem[{ad_a[13:5], 1'b0}] <= merged(mem[{ad_a[13:5], 1'b0}], {12'b0, ad_a[1:0]}, di_a, 18);
        mem[{ad_a[13:5], 1'b1}] <= merged(mem[{ad_a[13:5], 1'b1}], {12'b0, ad_a[3:2]}, di_b, 18);
      end
    end else if (CEA) begin
      if (WEA) begin
        mem[ad_a[13:4]] <= merged(mem[ad_a[13:4]], ad_a, di_a, DATA_WIDTH_A);
        if (WRITEMODE_A == "WRITETHROUGH")
          do_a <= lane(merged(mem[ad_a[13:4]], ad_a, di_a, DATA_WIDTH_A), ad_a, DATA_WIDTH_A);
        else if (WRITEMODE_A == "READBEFOREWRITE")
          do_a <= lane(mem[ad_a[13:4]], ad_a, DATA_WIDTH_A);
      end else begin
        do_a <= lane(mem[ad_a[13:4]], ad_a, DATA_WIDTH_A);
      end
    end
  end

  // port B
  wire clk_b = (CLKBMUX == "INV") ? ~CLKB : CLKB;
  wire [13:0] ad_b = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
  reg [17:0] do_b = 18'b0;
  assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = do_b;
  wire arst_b = RESETMODE == "ASYNC" && RSTB;
  always @(posedge clk_b or posedge arst_b) begin
    if (RSTB) begin
      do_b <= 18'b0;
      do_b_low <= 18'b0;
    end else if (CEB && WIDE) begin
      do_b_low <= mem[{ad_b[13:5], 1'b0}];
      do_b <= mem[{ad_b[13:5], 1'b1}];
    end else if (CEB) begin
      if (WEB) begin
        mem[ad_b[13:4]] <= merged(mem[ad_b[13:4]], ad_b, di_b, DATA_WIDTH_B);
        if (WRITEMODE_B == "WRITETHROUGH")
          do_b <= lane(merged(mem[ad_b[13:4]], ad_b, di_b, DATA_WIDTH_B), ad_b, DATA_WIDTH_B);
        else if (WRITEMODE_B == "READBEFOREWRITE")
          do_b <= lane(mem[ad_b[13:4]], ad_b, DATA_WIDTH_B);
      end else begin
        do_b <= lane(mem[ad_b[13:4]], ad_b, DATA_WIDTH_B);
      end
    end
  end
endmodule
