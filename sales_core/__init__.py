"""Sales and invoicing console: the product's logic, free of any UI."""

__version__ = "0.1.0"
