"""The electronic logbook: events of investigations and beamlines, their versions and files."""
