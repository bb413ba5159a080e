"""Harvesting metadata from HDF5/NeXus files into the catalogue."""
