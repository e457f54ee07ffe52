"""Everything the accelerator's sequencer and memories hold, as plain Python numbers.

:func:`build_tables` turns a :class:`~ecg_alq.hw.plan.NetworkPlan` into per-layer constants
(:class:`LayerConsts`, one entry per layer, selected by the layer counter in hardware), the
per-lane pass tables and sign words, the constant outputs of channels without bases, and the
datapath widths (from the proven bounds of :mod:`ecg_alq.intmodel.bounds`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecg_alq.hw.params import HardwareParamError
from ecg_alq.hw.plan import NetworkPlan
from ecg_alq.intmodel.bounds import layer_bounds
from ecg_alq.intmodel.spec import rshift

BUF_A, BUF_B, DST_LOGITS = 1, 2, 3  #: the input stage writes the first layer's source, A


@dataclass(frozen=True)
class LayerConsts:
    """The constants of one layer (element indices are in the position-major activation layout:
    ``element = position * channels + channel``)."""

    src: int  #: BUF_A (even layers, the first one's being the preprocessed input) or BUF_B
    dst: int  #: BUF_A, BUF_B or DST_LOGITS
    in_elements: int  #: in_length * in_channels
    fan_in: int
    chunks: int  #: F
    passes: int  #: P
    conv_length: int
    step: int  #: stride * in_channels: window start advance per output position
    start: int  #: -padding * in_channels: window start of position 0
    pool_kernel: int
    pool_stride: int
    windows: int  #: ceil(pool_kernel / pool_stride): pooling slots per channel
    out_length: int
    out_channels: int
    shift: int  #: requantization shift (0 for the logits layer, unused there)
    pass_base: int  #: first row of this layer in the pass tables
    sign_base: int  #: first row of this layer in the sign ROMs
    zero_base: int  #: first row of this layer in the zero-channel table
    zero_count: int


@dataclass(frozen=True)
class PassEntry:
    valid: bool
    channel: int
    local: int  #: index of the channel among its lane's channels (pooling state row)
    alpha: int
    first: bool
    last: bool
    bias: int


@dataclass
class Tables:
    layers: list[LayerConsts]
    passes: list[list[PassEntry]]  #: per lane, all layers' rows
    signs: list[np.ndarray]  #: per lane, bool (rows, simd)
    zeros: list[tuple[int, int]]  #: (channel, constant output) of all layers' empty channels
    act_bits: int
    input_shift: int
    alpha_bits: int
    psum_width: int
    acc_width: int
    bias_width: int
    max_local: int  #: most channels one lane owns in any layer
    max_windows: int
    buffer_elements: dict[int, int]  #: BUF_A/BUF_B -> elements it must hold
    input_length: int


def build_tables(plan: NetworkPlan) -> Tables:
    model, params = plan.model, plan.params
    act_bits = model.input.bits
    if any(layer.in_bits != act_bits for layer in model.layers):
        raise HardwareParamError("the accelerator needs one activation width for the input and "
                                 f"every layer; this model has {[l.in_bits for l in model.layers]}")
    layers, passes, signs, zeros = [], [[] for _ in range(params.pe)], \
        [[] for _ in range(params.pe)], []
    pass_base = sign_base = 0
    buffers = {BUF_A: model.input.length, BUF_B: 0}  # the input: one channel
    psum_w = acc_w = bias_w = 1
    for k, lp in enumerate(plan.layers):
        layer = lp.layer
        last = k == len(plan.layers) - 1
        src = BUF_A if k % 2 == 0 else BUF_B
        dst = DST_LOGITS if last else (BUF_B if k % 2 == 0 else BUF_A)
        if not last:
            buffers[dst] = max(buffers[dst], layer.out_length * layer.out_channels)
        zero_base = len(zeros)
        if not last:  # the logits layer's empty channels are their biases (set at its start)
            for c in lp.zero_channels:
                zeros.append((c, int(np.clip(rshift(np.int64(layer.bias[c]), layer.out_shift),
                                             0, (1 << layer.out_bits) - 1))))
        layers.append(LayerConsts(
            src=src, dst=dst, in_elements=layer.in_length * layer.in_channels,
            fan_in=layer.fan_in, chunks=lp.chunks, passes=lp.passes,
            conv_length=layer.conv_length, step=layer.stride * layer.in_channels,
            start=-layer.padding * layer.in_channels, pool_kernel=layer.pool_kernel,
            pool_stride=layer.pool_stride,
            windows=-(-layer.pool_kernel // layer.pool_stride), out_length=layer.out_length,
            out_channels=layer.out_channels, shift=0 if last else layer.out_shift,
            pass_base=pass_base, sign_base=sign_base, zero_base=zero_base,
            zero_count=len(zeros) - zero_base))
        for i, lane in enumerate(lp.lanes):
            local = {c: j for j, c in enumerate(lane.channels)}
            for ps in lane.passes:
                passes[i].append(PassEntry(False, 0, 0, 0, False, False, 0) if ps is None else
                                 PassEntry(True, ps.channel, local[ps.channel], ps.alpha,
                                           ps.first, ps.last, int(layer.bias[ps.channel])))
            signs[i].append(lp.sign_words(i))
        pass_base += lp.passes
        sign_base += lp.passes * lp.chunks
        b = layer_bounds(layer)
        psum_w = max(psum_w, b.basis_sum_bits)
        acc_w = max(acc_w, b.partial_sum_bits)
        bias_w = max(bias_w, layer.bias_bits)
    alpha_bits = max(layer.alpha_bits for layer in model.layers)
    max_alpha = max((int(layer.alpha.max()) for layer in model.layers if layer.active_bases),
                    default=1)
    alpha_bits = max(alpha_bits, max_alpha.bit_length())  # "powers" alpha are wider
    return Tables(
        layers=layers, passes=passes, signs=[np.concatenate(s) for s in signs], zeros=zeros,
        act_bits=act_bits, input_shift=model.input.shift, alpha_bits=alpha_bits,
        psum_width=psum_w, acc_width=max(acc_w, psum_w + alpha_bits, bias_w), bias_width=bias_w,
        max_local=max(len(lane.channels) for lp in plan.layers for lane in lp.lanes),
        max_windows=max(lc.windows for lc in layers), buffer_elements=buffers,
        input_length=model.input.length)

