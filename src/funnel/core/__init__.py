"""Infrastructure that knows no business domain: models base, transactions, errors, money."""
