"""Sample inboxes: a year of realistic, messy ledger files with known figures and known mistakes."""

from flows.sample.figures import agrees, compute_figures, published_figures
from flows.sample.inbox import Mistake, SampleManifest, WrittenFile, write_sample_inbox
from flows.sample.truth import DEFAULT_SEED, Targets, targets_for, truth_frames

__all__ = [
    "DEFAULT_SEED", "Mistake", "SampleManifest", "Targets", "WrittenFile", "agrees",
    "compute_figures", "published_figures", "targets_for", "truth_frames", "write_sample_inbox",
]  # fmt: skip
