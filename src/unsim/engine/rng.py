"""Named random streams (re-exported from :mod:`unsim.streams`)."""

from unsim.streams import Streams, new_master_seed, stream_key

__all__ = ["Streams", "new_master_seed", "stream_key"]
