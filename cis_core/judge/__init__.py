"""Judgements: facts in, structured problems (stable codes plus a message) out."""
