"""Composition: the typed settings, the DI container built from them, the builders of
adapters that hold resources, closing them, and warming the offline model."""
