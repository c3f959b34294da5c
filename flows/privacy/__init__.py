"""Personal data: masking and keyed hashes, applied before anything reaches the warehouse."""
