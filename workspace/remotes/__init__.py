"""Remotes: pushing datasets to S3-compatible storage or a ``file://`` directory, and back.

``url`` parses remote URLs; ``backend`` is the small interface both kinds of
storage offer (``s3`` is the only importer of obstore, ``files`` plain POSIX);
``layout`` names every key of the documented remote layout and encodes its
records; ``inventory`` reads what a remote holds; ``transfer`` moves objects
(packed small objects, streamed large ones) with verification; ``push``,
``pull``, ``status``, ``manage`` and ``fetch`` are the services.
"""
