"""TwineAuthenticate@1 for Azure Pipelines: a private ``.pypirc`` for ``twine upload``."""

__version__ = "1.0.0"
