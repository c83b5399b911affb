"""The 1C exchange: protocol state machine, uploads, zip expansion and the import worker."""
