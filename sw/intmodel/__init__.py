"""The integer model: the contract between the software and the hardware side.

A quantized network is described completely by integers (see ``docs/model-file.md``):

- :mod:`.spec`    the in-memory description (:class:`IntModel`, :class:`IntLayer`) and its
                  consistency checks;
- :mod:`.fileio`  the versioned ``.npz`` file (JSON header + integer arrays): atomic writing and
                  strict, pickle-free loading;
- :mod:`.bounds`  proven worst-case accumulator ranges, hence the widths the hardware needs;
- :mod:`.golden`  the bit-exact numpy inference (the deployed behaviour) with layer dumps;
- :mod:`.memory`  the honest memory count (every stored bit);
- :mod:`.shipped` the default model that ships with the package.

A leaf of the package: numpy only, no torch, and nothing of ours but the leaf utilities
(:mod:`ecg_alq.errors`, :mod:`ecg_alq.atomic`); ``tests/test_imports.py`` keeps it so. Making a
model file from a torch checkpoint is the quantization side's job
(:mod:`ecg_alq.quant.export`, ``ecg-alq export``). The hardware generators read only
:mod:`.spec`, :mod:`.fileio` and :mod:`.bounds`.
"""

from ecg_alq.intmodel.fileio import load, save
from ecg_alq.intmodel.spec import InputSpec, IntLayer, IntModel

__all__ = ["InputSpec", "IntLayer", "IntModel", "load", "save"]
