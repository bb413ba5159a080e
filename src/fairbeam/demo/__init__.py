"""A believable demo facility: beamlines, proposals, people, datasets and NeXus files."""
