"""Quantization: multi-bit binary weights (ALQ), baselines and their loss model; the quantized
model file (:mod:`.modelfile`), its integer export to the model-file contract (:mod:`.export`)
and the golden model's evaluation of a run (:mod:`.evaluate`)."""
