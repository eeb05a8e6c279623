"""Text analytics in the product: enrichment of every customer text, and sentiment learned per organization."""
