"""Icarus Verilog, the second simulator, in SystemVerilog mode (``-g2012``, what cocotb passes):
the generated Verilog depends on no time-zero event, and the network testbench passes on small
models as it does in Verilator. Skipped, saying why, where Icarus is not installed
(``make icarus`` installs it as root on Debian)."""

import re

import pytest
from amaranth import Array, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ecg_alq.hw.verilog_text import convert, trigger_at_time_zero
from ecg_alq.sim.runner import SimulationFailed, icarus_installed, run

icarus = pytest.mark.skipif(not icarus_installed(),
                            reason="Icarus Verilog is not installed (make icarus)")


class Table(wiring.Component):
    """``out = values[index]``; ``index`` counts ``step`` pulses from 0 (the shape of the
    accelerator's per-layer tables: constants read through a register that keeps its reset
    value for a long time)."""

    step: In(1)
    out: Out(8)

    def __init__(self, values: list[int]):
        self.values = values
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        index = Signal(range(len(self.values)))
        with m.If(self.step):
            m.d.sync += index.eq(index + 1)
        m.d.comb += self.out.eq(Array(Const(v, 8) for v in self.values)[index])
        return m


def test_the_time_zero_trigger_is_an_event_in_every_dialect():
    """Every module's trigger is a net with a constant driver, not a variable with a declaration
    initialiser (no event under IEEE 1800); every ``always @*`` reads it. A text in an unknown
    shape is refused rather than passed through."""
    from amaranth.back import verilog

    raw = verilog.convert(Table([5, 9, 12]), name="t", emit_src=False)
    text = convert(Table([5, 9, 12]), name="t", emit_src=False)
    trigger = re.search(r"reg (\\\S+ ) = 0;", raw).group(1)
    assert f"wire {trigger};" in text and f"assign {trigger} = 1'b0;" in text
    assert f"reg {trigger}" not in text
    assert text.count("always @*") == text.count(f"if ({trigger}) begin end") == 2
    with pytest.raises(RuntimeError, match="time-zero safe"):
        trigger_at_time_zero(raw.replace("    if (\\$auto", "    if (\\$other", 1))


@icarus
def test_no_signal_waits_for_a_time_zero_event_in_icarus(tmp_path):
    """Under ``-g2012`` the table's output is defined from the first nanosecond; the same design
    written as yosys' plain Verilog-2005 stays X there (so this test can fail)."""
    from amaranth.back import verilog

    values = [5, 9, 12]
    run(Table(values), "t", "tb_timezero", tmp_path / "fixed", {"values": values},
        simulator="icarus")
    raw = tmp_path / "raw" / "t.v"
    raw.parent.mkdir()
    raw.write_text(verilog.convert(Table(values), name="t"))
    with pytest.raises(SimulationFailed, match="waits for an event"):
        run(None, "t", "tb_timezero", tmp_path / "raw", {"values": values},
            verilog_path=raw, simulator="icarus")
