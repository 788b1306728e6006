"""The core every layer stands on: database URLs (and secret masking), the neutral type
vocabulary, the table model, error classes, progress reporting, value policies for hostile
data, the embedded PostgreSQL default, and interruption (a cancellation token, signals).

May import: the standard library and third-party packages only, never another sluice package.
"""
