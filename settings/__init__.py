"""Configuration every zhenggai process reads: ``Settings`` from the environment and the
operator's policy file. The API, the worker and the command line import it; it imports
none of them."""

from settings.process import Language, Settings

__all__ = ["Language", "Settings"]
