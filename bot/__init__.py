"""Vrijwilligerskracht: the application around the quiz domain (channels, store, NLU, geo)."""
