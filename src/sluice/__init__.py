"""sluice: stream whole relational databases between engines, verified, in bounded memory."""

__version__ = "0.1.0"
