"""Amaranth generators of the multi-bit binary CNN accelerator; they read only the quantized-model contract of ``ecg_alq``."""
