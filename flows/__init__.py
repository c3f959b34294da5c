"""tally: a county bureau's ledgers (台账) in, validated annual report figures out."""

__version__ = "0.1.0"
