"""Roll out: organization discovery (``discover``), the shard check (``shards``), the pack's topology config
(``pack_config``), and what their command lines share (``command``: stack names and files, Regions, errors)."""
