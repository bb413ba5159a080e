"""The `fairbeam` command."""
