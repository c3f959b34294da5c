"""The bureau's contract: what comes in (ledgers, file names) and what goes out (indicators, printed forms)."""
