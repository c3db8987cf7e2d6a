"""Team mode: a library shared on a Chroma server, sealed on the client, with its members and keys."""
