"""Reading ink and text, and building the dataset file."""
