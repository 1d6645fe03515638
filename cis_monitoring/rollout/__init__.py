"""Roll out: organization discovery, shard checks, and the one reader of Pulumi stack files."""
