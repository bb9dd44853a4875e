"""Staff API input and output schemas, one module per staff area. Input schemas bound shape
and size; the services state the rules (SKU syntax and uniqueness, price currency, stock never
negative, the order workflow) and their errors answer 409/422 problems with the field named."""
