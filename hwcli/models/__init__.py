"""The networks of Graves (2013) sections 4-5."""
