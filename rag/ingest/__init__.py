"""files -> Document -> Passage: reading the corpus, metadata, chunks, language, sentences."""
