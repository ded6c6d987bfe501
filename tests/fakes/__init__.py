"""Local stand-ins for the platforms' HTTP APIs, served on 127.0.0.1 for the channel tests."""
