"""The integer model: the contract between the software and the hardware side.

A quantized network is described completely by integers (see ``docs/model-file.md``):

- :mod:`.spec`    the in-memory description (:class:`IntModel`, :class:`IntLayer`) and its
                  consistency checks;
- :mod:`.fileio`  the versioned ``.npz`` file (JSON header + integer arrays): atomic writing and
                  strict, pickle-free loading;
- :mod:`.bounds`  proven worst-case accumulator ranges, hence the widths the hardware needs;
- :mod:`.golden`  the bit-exact numpy inference (the deployed behaviour) with layer dumps;
- :mod:`.export`  conversion from a quantized torch checkpoint (``ecg-alq export``);
- :mod:`.shipped` the default model that ships with the package.

The hardware generators read only :mod:`.spec`, :mod:`.fileio` and :mod:`.bounds`.
"""

from ecg_alq.intmodel.fileio import load, save
from ecg_alq.intmodel.spec import InputSpec, IntLayer, IntModel

__all__ = ["InputSpec", "IntLayer", "IntModel", "load", "save"]
