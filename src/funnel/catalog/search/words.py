"""The words of search, the same on every database: query tokens, English stems, compounds,
the catalogue's vocabulary, trigrams and edit distance.

Plain functions of their inputs (no database): the services use them to build what is indexed,
the search to build what is asked, so both sides always agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

MAX_QUERY_LENGTH = 200
MAX_TOKENS = 12
MAX_TOKEN_LENGTH = 40
# Vocabulary words: letters only, 3 to 40 of them (shorter words are not worth correcting).
MIN_TERM_LENGTH = 3
MAX_TERM_LENGTH = 40
_WORD = re.compile(r"[^\W_]+")
_LETTERS = re.compile(r"[^\W\d_]+")
# Two or three words joined by hyphens ("T-shirt", "eau-de-parfum"), also indexed as one word.
_COMPOUND = re.compile(r"\b[^\W\d_]+(?:-[^\W\d_]+){1,2}\b")
# Snowball's English stemmer, compiled (PyStemmer): the pure-Python port loads every language's
# tables with the package, about 9 MB in each web worker.
_STEMMER = Stemmer.Stemmer("english")


def normalise_query(raw: str | None) -> str:
    """The query as shown back to the visitor: trimmed, spaces collapsed, at most 200 chars."""
    return " ".join((raw or "").split())[:MAX_QUERY_LENGTH]


def query_tokens(query: str) -> list[str]:
    """Lower-case word tokens (letters and digits only), without repeats, at most 12."""
    tokens: list[str] = []
    for token in _WORD.findall(query.lower()):
        token = token[:MAX_TOKEN_LENGTH]
        if token not in tokens:
            tokens.append(token)
        if len(tokens) == MAX_TOKENS:
            break
    return tokens


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """The English (Snowball) stem of a lower-case word: ``kettles`` -> ``kettl``."""
    return str(_STEMMER.stemWord(word))


def compounds(text: str) -> list[str]:
    """Hyphenated words written as one, lower case: ``T-shirt`` -> ``tshirt``.

    A shopper types ``tshirt`` as often as ``t-shirt``; every database's parser splits the
    hyphenated form, so the joined one is indexed beside it.
    """
    found: list[str] = []
    for match in _COMPOUND.findall(text):
        joined = match.replace("-", "").lower()[:MAX_TERM_LENGTH]
        if joined not in found:
            found.append(joined)
    return found


def document_extras(title: str, description: str) -> list[str]:
    """Words added to a product's search document so that every database finds its plurals
    and compounds: the joined compounds, and the stems that are not a prefix of their word
    (``berry`` -> ``berri``, so that ``berries`` finds it where no stemmer runs: MariaDB)."""
    extras = compounds(f"{title}\n{description}")
    for word in _LETTERS.findall(f"{title}\n{description}".lower()):
        word_stem = stem(word)
        if (
            len(word_stem) >= MIN_TERM_LENGTH
            and not word.startswith(word_stem)
            and word_stem not in extras
        ):
            extras.append(word_stem)
    return extras


def vocabulary(texts: Iterable[str]) -> set[str]:
    """The words a product brings to the catalogue's vocabulary ("did you mean" draws on
    it): lower-case letter words of 3 to 40 letters, and joined compounds."""
    words: set[str] = set()
    for text in texts:
        words.update(
            word
            for word in _LETTERS.findall(text.lower())
            if MIN_TERM_LENGTH <= len(word) <= MAX_TERM_LENGTH
        )
        words.update(word for word in compounds(text) if len(word) >= MIN_TERM_LENGTH)
    return words


def trigrams(word: str) -> list[str]:
    """The distinct three-letter pieces of a word, in order: ``kettle`` -> ket ett ttl tle."""
    pieces: list[str] = []
    for start in range(len(word) - 2):
        piece = word[start : start + 3]
        if piece not in pieces:
            pieces.append(piece)
    return pieces


def allowed_edits(word: str) -> int:
    """How many typing mistakes a word may hold and still be corrected: none below 4 letters,
    one up to 5, two from 6 (the usual rule of spelling correctors)."""
    if len(word) < 4:
        return 0
    return 1 if len(word) <= 5 else 2


def edit_distance(first: str, second: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions, deletions,
    substitutions and swaps of two neighbouring letters each count one."""
    previous_row: list[int] | None = None
    row = list(range(len(second) + 1))
    for i, first_letter in enumerate(first, start=1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(second)
        for j, second_letter in enumerate(second, start=1):
            cost = 0 if first_letter == second_letter else 1
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + cost)
            if (
                before is not None
                and i > 1
                and j > 1
                and first_letter == second[j - 2]
                and first[i - 2] == second_letter
            ):
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]
