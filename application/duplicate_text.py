"""A finding's text made ready for the duplicate measure (减负): words by jieba.

The measure itself is pure (``domain.duplicates.judge``); the domain may not import
jieba, so the word segmentation happens here and is handed to ``analyse``. jieba's
own dictionary ships inside the installed package (nothing is downloaded); the
lexicon's canonical words and objects are added to a private tokenizer so they stay
whole words. Analyses are cached by text, so a unit's open cases are segmented once
per process, not on every check.
"""

from __future__ import annotations

import functools
import logging
import threading
import tomllib
import warnings
from pathlib import Path

from domain.duplicates import Analysed, FindingText, Lexicon, analyse, lexicon_from_mapping
from domain.policy import Policy

with warnings.catch_warnings():
    # jieba 0.42 has regular expressions in non-raw strings (invalid escape sequences).
    warnings.simplefilter("ignore", SyntaxWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    import jieba

__all__ = ["analysed", "lexicon_of", "segmenter", "shipped_lexicon"]

LEXICON_FILE = Path(__file__).with_name("duplicate_lexicon.toml")

jieba.setLogLevel(logging.WARNING)
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def shipped_lexicon() -> Lexicon:
    """The words shipped with zhenggai (``application/duplicate_lexicon.toml``)."""
    return lexicon_from_mapping(tomllib.loads(LEXICON_FILE.read_text(encoding="utf-8")))


def lexicon_of(policy: Policy) -> Lexicon:
    """The shipped words and the policy's ``[duplicates]`` words."""
    return _extended(shipped_lexicon(), policy.duplicates.lexicon())


@functools.lru_cache(maxsize=32)
def _extended(shipped: Lexicon, added: Lexicon) -> Lexicon:
    empty = not (added.synonyms or added.fillers or added.objects or added.object_suffixes)
    return shipped if empty else shipped.extended(added)


@functools.lru_cache(maxsize=8)
def segmenter(lexicon: Lexicon) -> jieba.Tokenizer:
    """A jieba tokenizer that knows the lexicon's words (initialised on first use)."""
    tokenizer = jieba.Tokenizer()
    with _LOCK:
        tokenizer.initialize()
        for word in {canonical for _, canonical in lexicon.synonyms} | lexicon.objects:
            if len(word) > 1:
                tokenizer.add_word(word, freq=100_000)
    return tokenizer


@functools.lru_cache(maxsize=200_000)
def analysed(title: str, description: str, category: str | None, lexicon: Lexicon) -> Analysed:
    tokenizer = segmenter(lexicon)
    text = FindingText(title=title, description=description, category=category)
    return analyse(text, lexicon, lambda s: tokenizer.lcut(s, HMM=True))
