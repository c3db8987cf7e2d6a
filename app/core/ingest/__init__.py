"""Files in: scan, parse (in worker processes), chunk, embed, write, recover."""
