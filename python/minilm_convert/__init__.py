"""Convert sentence-transformers/all-MiniLM-L6-v2 to a Core ML mlprogram (see python/README.md)."""
