"""The only package that talks to AWS (boto3). Thin, typed, batch-first adapters."""
