"""Checkpoint I/O: atomic writes through mmengine's file backend and
weights-only reads that name a corrupt or refused file.

Importing this package installs nothing; :mod:`mmsiam.runtime` puts both
into mmengine (``setup_runtime``)."""
