"""Verify: the read-only audit of deployed accounts (boto3 answers -> core facts -> verdicts)."""
