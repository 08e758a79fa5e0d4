"""Uploaded by the demo, installed back from the feed's simple index."""

GREETING = "Hello from a package that went through TwineAuthenticate and twine upload."
