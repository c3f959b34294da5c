"""Publishing a run: the lock, the aside copy and its swap, and telling the legal office."""
