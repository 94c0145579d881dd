/// Search: per-layer channel widths (BCNet) and bit-widths (HAWQ-V3, ZeroQ, EMQ, FLIQS) under a
/// budget, with cost and latency models. Empty until the search issues land; the target exists
/// so the dependency arrows of docs/architecture.md hold from the start.
public enum Search {}
