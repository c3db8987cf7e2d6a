"""What Sanctum keeps on disk: registry, vectors, keywords, conversations."""
