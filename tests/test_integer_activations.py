"""Integer activations and stored integer formats: rounding, STE, calibration, and that the
power-of-two scales and the requantization shifts reproduce the torch model in integers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ecg_alq.quant.modelfile import load_alq_model
from ecg_alq.errors import EcgAlqError
from ecg_alq.model import CONV_LAYERS
from ecg_alq.preprocess import INPUT_SHIFT, center, model_input
from ecg_alq.quant.activations import ActQuant, QuantCnn
from ecg_alq.quant.integer import alpha_format, signed_width


def test_rounding_is_half_up_and_clamped():
    q = ActQuant(4, signed=True)
    q.exponent.fill_(-1)  # step 0.5, integers -8..7
    x = torch.tensor([0.25, -0.25, 0.74, 0.75, 100.0, -100.0])
    assert q.to_int(x).tolist() == [1, 0, 1, 2, 7, -8]
    u = ActQuant(2, signed=False)
    assert u.limits == (0, 3)
    assert u.to_int(torch.tensor([-3.0, 1.4, 9.0])).tolist() == [0, 1, 3]


def test_straight_through_gradient_stops_outside_the_range():
    q = ActQuant(3, signed=False)  # integers 0..7, step 1
    x = torch.tensor([-1.0, 0.3, 6.6, 9.0], requires_grad=True)
    y = q(x)
    assert y.tolist() == [0.0, 0.0, 7.0, 7.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_calibration_picks_the_scale_that_fits_the_range():
    from ecg_alq.model import EcgCnn

    net = QuantCnn(EcgCnn(), 8)
    x = torch.rand(4, 1, 3600) * 1.9  # |input| < 2: 8-bit signed needs steps of 2^-6
    exps = net.calibrate(x)
    assert exps[0] == -6
    assert len(exps) == 9


@pytest.mark.parametrize("bits", [2, 8, 12])
def test_alpha_format_keeps_the_largest_alpha_and_every_active_one(bits):
    alpha = torch.tensor([[0.5, 0.01, 0.0], [0.3, 1e-9, 0.2]], dtype=torch.float64)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    mant, frac = alpha_format(alpha, mask, bits)
    assert int(mant.max()) <= 2**bits - 1 and int(mant.max()) > 2 ** (bits - 1) - 1
    assert (mant[mask] >= 1).all() and mant[~mask].eq(0).all()
    err = (mant.double() * 2.0**-frac - alpha).abs()[mask]
    assert (err[alpha[mask] > 2.0**-frac] <= 2.0 ** (-frac - 1) + 1e-15).all()


def test_alpha_format_rejects_bad_widths():
    with pytest.raises(EcgAlqError, match="alpha bits"):
        alpha_format(torch.ones(1, 1), torch.ones(1, 1, dtype=torch.bool), 1)


def test_signed_width():
    assert [signed_width(torch.tensor(v)) for v in ([0], [1], [-1], [127, -128], [128], [-129])] == \
        [1, 2, 1, 8, 9, 9]


def test_the_quantized_network_is_integer_arithmetic(quantized_run, frags):
    """Recompute every conv block in integers from the stored file: input shift, signs x alpha
    mantissas, bias, ReLU, max-pool, requantization shift. Must equal the torch model's integer
    activations exactly."""
    model, payload = load_alq_model(quantized_run / "model.pt")
    raw = frags.x[::97][:8]
    x = model_input(raw)
    with torch.no_grad():
        points = model.points(x)
    e_in = payload["layers"][0]["in_exponent"]
    # the input integers are a rounded right shift of the centred samples
    shift_in = e_in + INPUT_SHIFT
    c = torch.from_numpy(center(raw).astype(np.int64))
    a = torch.div(c + (1 << shift_in >> 1), 1 << shift_in, rounding_mode="floor") if shift_in else c
    a = a.clamp(-128, 127)[:, None, :]
    assert torch.equal(a.double(), model.quant[0].to_int(points[0]).double())
    for k, spec in enumerate(CONV_LAYERS):
        rec = payload["layers"][k]
        w = torch.einsum("gi,gin->gn", rec["alpha"].double() * rec["mask"], rec["beta"].double())
        acc = F.conv1d(a.double(), w.reshape(rec["shape"]), stride=spec.stride, padding=spec.padding)
        acc = acc + rec["bias"].double()[None, :, None]
        acc = F.max_pool1d(F.relu(acc), spec.pool_kernel, spec.pool_stride)
        s = rec["shift"]
        out = torch.floor(acc * 2.0**-s + 0.5).clamp(0, 255)
        want = model.quant[k + 1].to_int(points[k + 1]).double()
        assert torch.equal(out, want), f"conv{k + 1} differs"
        a = out
