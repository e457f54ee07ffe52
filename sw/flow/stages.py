"""The stages of the flow, in order. Each stage names the stages it needs, the inputs that make
up its fingerprint (:mod:`ecg_alq.flow.cache`) and what it does in its own folder; its result is
a small JSON-able dict that later stages and the report read.

==========  ======================================================================  ==============
stage       what it does                                                            needs
==========  ======================================================================  ==============
data        checksums and counts of the data folder                                 -
train       full-precision training on one fold (resumable per epoch)               data
quantize    ALQ with integer activations, tested on the fold                        train
golden      the integer model file, its golden-model accuracy, torch agreement      quantize
verilog     the accelerator's Verilog, linted by Verilator, with its cycle model    golden
build       the board's bitstream (yosys, nextpnr), resources, Fmax, latency        verilog
sim         test fragments through the RTL in Verilator, bit-exact check            verilog
report      report.md and report.html with the figures                              every stage run
==========  ======================================================================  ==============
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ecg_alq.errors import EcgAlqError
from ecg_alq.cachekey import code, tool_versions
from ecg_alq.flow.cache import file_sha256, fingerprint, tree_listing
from ecg_alq.hw.params import HwParams
from ecg_alq.quant.alq import AlqConfig
from ecg_alq.training import GENERALIZING_RECIPE, TrainConfig

#: the modules and packages whose code makes each stage's output (part of its key)
TRAIN_CODE = ("ecg_alq.training", "ecg_alq.model", "ecg_alq.augment", "ecg_alq.auxhead",
              "ecg_alq.preprocess", "ecg_alq.checkpoint", "ecg_alq.metrics", "ecg_alq.data")
QUANTIZE_CODE = ("ecg_alq.quant",)
GOLDEN_CODE = ("ecg_alq.intmodel", "ecg_alq.quant.modelfile", "ecg_alq.quant.export",
               "ecg_alq.quant.evaluate")
HW_CODE = ("ecg_alq.intmodel", "ecg_alq.hw")


#: the flow's training settings over TrainConfig's defaults (what ``make run`` trains): the
#: generalizing recipe of the shipped model (database windows, beat-type head, 20 epochs);
#: ``--windows fragments --aux-weight 0 --epochs 150`` gives the fragments-only recipe
TRAIN_RECIPE: dict = dict(GENERALIZING_RECIPE)
#: ``ecg-alq flow --quick``: a smoke test of every stage (options given on the command line win)
QUICK_TRAIN = {"epochs": 2, "samples_per_epoch": 128, "limit": 100}
QUICK_ALQ = {"rounds": 1, "epoch_basis": 1, "epoch_coord": 1, "top_k": 1.0, "pr": 0.9,
             "samples_per_epoch": 128}
QUICK_SIM_FRAGMENTS = 2


@dataclass
class FlowConfig:
    """Every setting of a flow run. ``params`` and ``clock_mhz`` default to the board's."""

    train: TrainConfig = field(default_factory=TrainConfig)
    alq: AlqConfig = field(default_factory=AlqConfig)
    board: str = "icebreaker"
    params: HwParams | None = None
    clock_mhz: float | None = None
    sim_fragments: int = 0  #: test fragments simulated in RTL (0: every one of the fold)
    sim_chunk: int = 20  #: fragments per simulator run (the unit of resumption)
    seeds: int = 2  #: placement seeds tried at the clock before it is relaxed
    out: Path = Path("runs/flow")
    command: str = "ecg-alq flow"  #: how the run was started (the report prints it)

    def __post_init__(self):
        from ecg_alq.boards.top import board

        spec = board(self.board)  # unknown board: a clear error
        self.params = self.params or spec.default_params
        self.params.validate()
        if self.params.memory == "spram" and spec.family != "ice40":
            raise EcgAlqError(f"memory style 'spram' needs an iCE40UP5K; {self.board} has "
                              f"{spec.device}: use --memory auto")
        if self.clock_mhz is None:
            self.clock_mhz = spec.default_clock_mhz
        self.train.validate()
        if self.sim_fragments < 0 or self.sim_chunk < 1 or self.seeds < 1:
            raise EcgAlqError("sim fragments must be >= 0 (0: all), the chunk and the seeds >= 1")
        if self.clock_mhz <= 0:
            raise EcgAlqError(f"the clock must be positive, got {self.clock_mhz} MHz")


class Flow:
    """The state of one flow run: the settings, the records of the stages done so far
    (``records[name]``: key, inputs, result, seconds, folder) and the lazily loaded data."""

    def __init__(self, config: FlowConfig, log=print):
        self.config = config
        self.log = log
        self.records: dict[str, dict] = {}
        self._frags = None

    @property
    def frags(self):
        if self._frags is None:
            from ecg_alq.data.splits import evaluation_table

            self._frags = evaluation_table(self.config.train.protocol, self.config.train.data)
        return self._frags

    def result(self, stage: str) -> dict:
        return self.records[stage]["result"]

    def folder(self, stage: str) -> Path:
        return Path(self.records[stage]["folder"])

    def model_path(self) -> Path:
        """The integer model file the hardware stages use (the golden stage's export)."""
        return self.folder("golden") / "model.npz"


@dataclass(frozen=True)
class Stage:
    name: str
    needs: tuple[str, ...]
    summary: str
    inputs: Callable[[Flow], dict]
    run: Callable[[Flow, Path], dict]
    cached: bool = True  #: False: always run (the report reflects what this run did)


# --- data ----------------------------------------------------------------------------------

def _data_inputs(flow: Flow) -> dict:
    from ecg_alq.data.root import resolve_data_root

    root = resolve_data_root(flow.config.train.data)
    return {"root": str(root.resolve()), "files": tree_listing(root)}


def _data_run(flow: Flow, folder: Path) -> dict:
    """The check; its result's ``content`` (SHA-256 of the checksum lists every file was just
    verified against) is what later stages key on: moving or touching the data re-runs the
    check, not the training."""
    from ecg_alq.data.root import resolve_data_root
    from ecg_alq.data.verify import CHECKSUM_LISTS, verify

    report, problems = verify(flow.config.train.data)
    for line in report:
        flow.log(f"  {line}")
    if problems:
        raise EcgAlqError("data check failed: " + "; ".join(problems[:5])
                          + ("" if len(problems) <= 5 else f" (and {len(problems) - 5} more)"))
    root = resolve_data_root(flow.config.train.data)
    return {"report": report, "content": fingerprint(
        {name: file_sha256(root / name) for name in CHECKSUM_LISTS})}


# --- training and quantization --------------------------------------------------------------

def _train_inputs(flow: Flow) -> dict:
    cfg = dataclasses.asdict(flow.config.train)
    for k in TrainConfig.RESUMABLE_CHANGES:
        cfg.pop(k)
    return {"config": cfg, "data": flow.result("data")["content"], "code": code(*TRAIN_CODE)}


def _train_run(flow: Flow, folder: Path) -> dict:
    from ecg_alq.training import train

    m = train(flow.config.train, folder, resume=True)
    return {k: m[k] for k in ("protocol", "protocol_description", "fold", "n_train", "n_val",
                              "n_test", "accuracy", "balanced_accuracy", "macro_f1",
                              "selected_epoch", "train_seconds") if k in m}


def _quantize_inputs(flow: Flow) -> dict:
    cfg = dataclasses.asdict(flow.config.alq)
    cfg.pop("threads")
    return {"alq": cfg, "train": flow.records["train"]["key"], "code": code(*QUANTIZE_CODE)}


def _quantize_run(flow: Flow, folder: Path) -> dict:
    from ecg_alq.quant.quantize import quantize

    alq = dataclasses.replace(flow.config.alq, threads=flow.config.train.threads)
    m = quantize(flow.folder("train") / "model.pt", alq, folder, data=flow.config.train.data,
                 log=lambda line: flow.log(f"  {line}"))
    return {k: m[k] for k in ("accuracy", "accuracy_float_activations", "float_model_accuracy",
                              "average_bits", "layer_bits", "act_bits", "seconds", "n_test")
            if k in m} | {"memory_kib": m["memory"]["kib"], "paper_kib": m["memory"]["paper_kib"]}


def _golden_inputs(flow: Flow) -> dict:
    return {"quantize": flow.records["quantize"]["key"], "code": code(*GOLDEN_CODE)}


def _golden_run(flow: Flow, folder: Path) -> dict:
    from ecg_alq.quant.evaluate import evaluate_run

    r = evaluate_run(flow.folder("quantize"), flow.frags, flow.config.train.data,
                     model_out=folder / "model.npz")
    a = r["agreement_all"]
    flow.log(f"  golden model: {100 * r['accuracy']:.2f} % on the {r['n_test']} test fragments; "
             f"against torch on all {a['n']} fragments: {a['logit_mismatches']} integer-logit "
             f"and {a['class_mismatches_float32']} class mismatches")
    if a["logit_mismatches"]:
        raise EcgAlqError(f"the integer model does not reproduce the torch model: "
                          f"{a['logit_mismatches']} of {a['n']} fragments differ")
    from ecg_alq.intmodel import load
    from ecg_alq.intmodel.fileio import content_sha256

    return r | {"model_sha256": file_sha256(folder / "model.npz"),
                "model_content_sha256": content_sha256(load(folder / "model.npz"))}


# --- hardware ---------------------------------------------------------------------------------

def _hw_inputs(flow: Flow, *modules: str) -> dict:
    """The same network (content hash, not file: its provenance names times and places) with
    the same parameters and generator code gives the same hardware."""
    return {"model": flow.result("golden")["model_content_sha256"],
            "params": flow.config.params.to_dict(), "code": code(*HW_CODE, *modules)}


def _verilog_run(flow: Flow, folder: Path) -> dict:
    from ecg_alq.hw.generate import describe, generate

    summary = generate(flow.model_path(), flow.config.params, folder)
    for line in describe(summary).splitlines():
        flow.log(f"  {line}")
    return summary


def sim_rows(flow: Flow) -> list[int]:
    """The test fragments of the fold that the sim stage runs: all, or ``sim_fragments`` of them
    spread over the classes."""
    from ecg_alq.sim.network import spread_rows
    from ecg_alq.training import split_for

    test = split_for(flow.config.train, flow.frags).test
    n = flow.config.sim_fragments or len(test)
    if n >= len(test):
        return [int(r) for r in test]
    return [int(test[i]) for i in sorted(spread_rows(flow.frags.label[test], n))]


def _sim_inputs(flow: Flow) -> dict:
    return _hw_inputs(flow, "ecg_alq.sim") | {"rows": sim_rows(flow)}


def _sim_run(flow: Flow, folder: Path) -> dict:
    from ecg_alq.intmodel import load
    from ecg_alq.sim.network import bit_exact_summary, simulate_chunks

    rows = sim_rows(flow)
    if not rows:
        raise EcgAlqError("the fold has no test fragments to simulate (protocol 'all')")
    expected = flow.result("verilog")["cycles"]["total"]
    flow.log(f"  {len(rows)} test fragment(s) in chunks of {flow.config.sim_chunk}; expected "
             f"{expected} cycles each")
    chunks = simulate_chunks(load(flow.model_path()), flow.config.params, flow.frags.x, rows,
                             folder, flow.config.sim_chunk, progress=lambda s: flow.log(f"  {s}"))
    s = bit_exact_summary(chunks, flow.frags.label, expected)
    if not s["bit_exact"]:
        raise EcgAlqError(
            f"the RTL differs from the golden or cycle model: {s['logit_mismatches']} logit and "
            f"{s['class_mismatches']} class mismatch(es) in {s['fragments']} fragment(s), cycles "
            f"{s['cycles']} against {expected}; failures: {s['failures'] or 'none'}. Every "
            f"fragment's result is in {folder}/chunk-*/report.json; the first fragment of each "
            f"chunk was compared layer by layer (see the simulator log there)")
    return s


def _build_inputs(flow: Flow) -> dict:
    return _hw_inputs(flow, "ecg_alq.boards") | {"board": flow.config.board,
                                                  "clock_mhz": flow.config.clock_mhz,
                                                  "seeds": flow.config.seeds,
                                                  "tools": tool_versions()}


def build_run(board: str, model: Path, params: HwParams, clock_mhz: float, seeds: int,
              folder: Path, log=print) -> dict:
    """The build stage's work, a plain function so that it can run in another process: the
    bitstream at ``clock_mhz`` with the first of ``seeds`` placement seeds that meets it, or at
    a relaxed clock when none does."""
    from ecg_alq.boards.build import build_closing_timing

    return build_closing_timing(board, model, params, folder, clock_mhz=clock_mhz,
                                seeds=tuple(range(1, seeds + 1)), log=log)


def _build_run(flow: Flow, folder: Path) -> dict:
    c = flow.config
    return build_run(c.board, flow.model_path(), c.params, c.clock_mhz, c.seeds, folder,
                     log=flow.log)


def _report_inputs(flow: Flow) -> dict:
    return {name: rec["key"] for name, rec in flow.records.items()}


def _report_run(flow: Flow, folder: Path) -> dict:
    from ecg_alq.flow.report import write_report

    return write_report(flow, folder)


STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("data", (), "check the data folder (checksums, counts)", _data_inputs, _data_run),
    Stage("train", ("data",), "train the full-precision CNN on the fold", _train_inputs,
          _train_run),
    Stage("quantize", ("train",), "ALQ with integer activations", _quantize_inputs,
          _quantize_run),
    Stage("golden", ("quantize",), "export the integer model file and evaluate the golden model",
          _golden_inputs, _golden_run),
    Stage("verilog", ("golden",), "generate and lint the accelerator's Verilog",
          lambda flow: _hw_inputs(flow), _verilog_run),
    Stage("build", ("verilog",), "build the board's bitstream (yosys, nextpnr)", _build_inputs,
          _build_run),
    Stage("sim", ("verilog",), "simulate test fragments in Verilator, bit-exact check",
          _sim_inputs, _sim_run),
    Stage("report", (), "write the report", _report_inputs, _report_run, cached=False),
)}
