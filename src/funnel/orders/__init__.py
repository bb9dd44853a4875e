"""Orders: placed orders, their lines, the status workflow, order events and order emails.

Orders sit above payments and inventory (they call them) and below checkout (which calls
``services.place_order`` inside its own transaction). They never import cart or checkout.
"""
