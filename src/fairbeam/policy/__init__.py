"""The data policy: embargo and release, DOIs, archive and restore, retention."""
