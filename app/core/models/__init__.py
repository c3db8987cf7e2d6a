"""Chat and embedding models: files, headers, loading, speeds, CPU turns."""
