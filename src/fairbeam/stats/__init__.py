"""Usage and volume statistics of the catalogue."""
