"""claimlookup: the domain of the claim lookup service (no Flask, no CLI); see docs/architecture.md."""
