"""The Verilog text of an Amaranth design, safe in every simulator.

Yosys' Verilog-2005 writer turns each combinational process into ``always @*`` and gives them a
time-zero trigger: a variable ``reg \\$auto...$1 = 0;`` read by a dummy ``if`` at the top of every
such block. Under Verilog-2005 semantics (``iverilog -g2005``) that initialiser is an assignment
at time zero, an event that runs every block once. Under IEEE 1800 semantics (``iverilog -g2012``,
which cocotb always passes) a declaration initialiser is no event: a block whose inputs never
change (a constant table read through a register that keeps its reset value) never runs and its
outputs stay X. The accelerator then never left layer 0 under Icarus.

:func:`convert` makes the trigger a net driven by a continuous assignment of a constant: both
standards evaluate continuous assignments at time zero, so the net changes from z to 0 then and
runs each combinational block once, in either dialect and in every tool (Verilator, Icarus, yosys,
vendor tools read it as plain Verilog-2005). Two alternatives failed here: ``initial #0`` needs
Verilator's ``--timing`` or ``--no-timing``, and ``always_comb`` (what ``write_verilog -sv`` writes)
makes Icarus 11 widen the sensitivity of yosys' bit-sliced processes to whole variables and loop
forever at time zero.
"""

from __future__ import annotations

import re

#: yosys' time-zero trigger: its declaration, and the dummy read at the top of an ``always @*``
_TRIGGER_DECL = re.compile(r"^( *)reg (\\\$auto\$verilog_backend\.cc:\d+:dump_module\$\d+ ) = 0;\n",
                           re.M)
_COMB_HEAD = re.compile(r"^ *always @\* begin\n *if \((\\\S+ )\) begin end\n", re.M)


def convert(component, name: str, emit_src: bool = True) -> str:
    """Amaranth's Verilog for ``component`` (top module ``name``), its combinational blocks run
    at time zero in every dialect (see the module's docstring)."""
    from amaranth.back import verilog

    return trigger_at_time_zero(verilog.convert(component, name=name, emit_src=emit_src))


def trigger_at_time_zero(text: str) -> str:
    """Rewrite the time-zero trigger of each module of ``text`` as a net with a constant driver.
    Raises
    RuntimeError if yosys' text is not in the shape this rewriting knows, so that a new yosys
    cannot silently bring the problem back."""
    triggers = {m.group(2) for m in _TRIGGER_DECL.finditer(text)}
    heads = list(_COMB_HEAD.finditer(text))
    if {m.group(1) for m in heads} - triggers or text.count("always @*") != len(heads):
        raise RuntimeError("yosys wrote combinational processes in a shape ecg_alq.hw.verilog_text "
                           f"does not know ({text.count('always @*')} 'always @*', {len(heads)} "
                           f"with the time-zero trigger); the Verilog would not be time-zero safe")
    return _TRIGGER_DECL.sub(lambda m: f"{m.group(1)}wire {m.group(2)};\n"
                                       f"{m.group(1)}assign {m.group(2)} = 1'b0;\n", text)
