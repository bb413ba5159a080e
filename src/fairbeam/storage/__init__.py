"""Storage tiers, checksums and archive bundles."""
