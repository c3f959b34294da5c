"""The warehouse's loader tables and the writes of one run into them."""
