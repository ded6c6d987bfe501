"""Where people are: PC4/PC6 postcodes, places and municipalities, shared locations."""
