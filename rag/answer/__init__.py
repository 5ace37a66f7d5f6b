"""question + passages -> Answer: extractive and generated answers, citation checks."""
