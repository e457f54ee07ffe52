"""Board top-levels, pin and clock set-up and FPGA builds."""
