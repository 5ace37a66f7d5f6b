"""question -> ranked passages: text analysis, BM25, embeddings, dense index, fusion."""
