"""what a passage says, sentence by sentence: the records answers and checks read."""
