"""ecg-alq: ECG rhythm classification with ALQ-quantized CNNs, from MIT-BIH records to FPGA.

The ``ecg_alq`` package is the software side (folder ``sw/``): data, model, training,
evaluation and the command line. ``ecg_alq.hw``, ``ecg_alq.sim`` and ``ecg_alq.boards`` hold the
hardware generators, the cocotb testbenches and the board builds.
"""

__version__ = "0.1.0"
