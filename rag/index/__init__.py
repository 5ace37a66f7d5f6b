"""building, verifying and publishing the on-disk index."""
