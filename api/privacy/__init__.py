"""Personal data: subject access exports, erasure and retention."""
