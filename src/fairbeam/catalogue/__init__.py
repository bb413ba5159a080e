"""Instruments, investigations, samples, datasets, datafiles and their parameters."""
