"""Adapters: each module or package implements application ports with one technology."""
