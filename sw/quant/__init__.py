"""Quantization: multi-bit binary weights (ALQ) and their loss model."""
