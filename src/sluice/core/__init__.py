"""The core every layer stands on: database URLs (and secret masking), the neutral type
vocabulary, the table model, error classes, progress reporting, value policies for hostile
data, and the embedded PostgreSQL default.

May import: the standard library and third-party packages only, never another sluice package.
"""
