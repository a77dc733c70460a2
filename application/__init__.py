"""Use cases of voicescribe: they drive the domain and talk to the world only through ports."""
