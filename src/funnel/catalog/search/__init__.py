"""Product search, the same behaviour on SQLite, PostgreSQL and MariaDB: stemmed full-text
matching (``matching``), typo tolerance and "did you mean" from the catalogue's own words
(``spelling``), suggestions as you type (``suggestions``); ``words`` holds the text rules both
the index and the queries follow.
"""

from funnel.catalog.search.products import SearchResult, search_products
from funnel.catalog.search.words import normalise_query, query_tokens

__all__ = ["SearchResult", "normalise_query", "query_tokens", "search_products"]
