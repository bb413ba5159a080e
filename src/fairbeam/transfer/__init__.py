"""Downloads: one file to terabytes, resumable, verified, at disk speed."""
