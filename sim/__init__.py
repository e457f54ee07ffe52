"""cocotb testbenches of the accelerator and their runners (Verilator)."""
