"""Shared fixtures. Tests run on the real data in ../shared/data (or $ECG_ALQ_DATA)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from ecg_alq.data.fragments import load_fragments
from ecg_alq.data.root import resolve_data_root

# Two xdist workers on two cores: one torch thread each (toolchain pitfall 14).
torch.set_num_threads(1)

#: the slow tier (``make test`` runs everything; ``make test-fast`` leaves these out): whole
#: modules that build hardware in Verilator or with yosys/nextpnr, or run the flow or the DSE,
#: and any test that needs a trained model
SLOW_MODULES = ("test_hw_", "test_board_", "test_flow", "test_dse", "test_crossval",
                "test_formal", "test_netlist", "test_second_simulator")
SLOW_FIXTURES = {"trained_model", "quantized_run", "small_model"}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: builds hardware, trains or runs a long job "
                            "(left out by make test-fast)")


#: the longest tests (one to four minutes each: FPGA builds and sweeps) start first, so that
#: the two workers finish together instead of one waiting for the last of them
LONGEST = ("test_a_build_that_misses_timing_says_so_and_can_be_relaxed_below_its_fmax",
           "test_ctrl_c_twice_stops_a_real_sweep_then_it_resumes",
           "test_small_sweep_on_a_two_worker_dask_cluster_then_from_cache",
           "test_host_client_against_the_link_in_verilator",
           "test_ice40_netlist_of_a_small_model_is_bit_exact")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.startswith(SLOW_MODULES) or SLOW_FIXTURES & set(
                getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.originalname not in LONGEST)  # stable: the rest in order


@pytest.fixture(scope="session")
def data_root():
    return resolve_data_root()


@pytest.fixture(scope="session")
def frags(data_root):
    return load_fragments(data_root)


def _once(tmp_path_factory, name: str, make) -> Path:
    """The folder ``name`` made by ``make(folder)`` once per test run, shared by the xdist
    workers (the first one makes it under a file lock, the others wait and reuse it)."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the run's folder above every worker's
    folder, done = shared / name, shared / f"{name}.done"
    with FileLock(str(shared / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            make(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory):
    """A float model file from a short real training run (a small subset, few epochs)."""
    from ecg_alq.training import TrainConfig, train

    def make(out):
        train(TrainConfig(epochs=3, limit=120, progress=False), out)

    return _once(tmp_path_factory, "trained", make) / "model.pt"


@pytest.fixture(scope="session")
def quantized_run(trained_model, tmp_path_factory):
    """A ``quantize`` run folder from a short ALQ schedule on :func:`trained_model`."""
    from ecg_alq.quant.alq import AlqConfig
    from ecg_alq.quant.quantize import quantize

    def make(out):
        cfg = AlqConfig(target_bits=1.5, rounds=1, epoch_basis=1, epoch_coord=1, top_k=0.5, pr=0.9)
        quantize(trained_model, cfg, out, log=lambda *a: None)

    return _once(tmp_path_factory, "quantized", make)


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """A small random 17-class integer model of 3600-sample fragments (the serial protocol's
    geometry): a board build of it takes about a minute."""
    from ecg_alq.intmodel import save
    from ecg_alq.intmodel.synthetic import conv, dense, random_model

    model = random_model([conv(4, 16, stride=8, padding=4, pool_kernel=8, pool_stride=8),
                          conv(4, 5, stride=2, padding=2, pool_kernel=4, pool_stride=4),
                          dense(17)], input_length=3600, seed=3)
    path = tmp_path_factory.mktemp("small") / "small.npz"
    save(model, path)
    return path


@pytest.fixture(scope="session")
def database(data_root):
    """Every MLII record, labelled at every start, reserved windows marked."""
    from ecg_alq.data.database import load_database

    return load_database(data_root)


@pytest.fixture(scope="session")
def grid(data_root):
    """The labelled, non-reserved 10-s grid windows (the block protocol's table)."""
    from ecg_alq.data.database import grid_table

    return grid_table(data_root)
