"""The audit's checks, one module per part of the chain: the trail that feeds the log group, then the alarm chain."""
