"""AsyncAPI: read a document into an API's contract, write one back, and serve its messages."""
