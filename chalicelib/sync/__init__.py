"""Pure diffing: canonical records, fingerprints, and change sets. Knows nothing of AWS."""
